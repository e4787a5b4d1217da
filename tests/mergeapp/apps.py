from django.apps import AppConfig


class MergeAppConfig(AppConfig):
    """Models with every kind of relation and constraint a merge must handle; installed in tests only."""

    name = "tests.mergeapp"
    label = "mergeapp"
