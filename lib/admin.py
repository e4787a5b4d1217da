"""Admin helpers shared by apps."""


class ReadOnlyAdminMixin:
    """An admin (or inline) that only shows: the app's services are the only writers of these rows."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
