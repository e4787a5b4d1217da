import pytest
from django.test import Client

from tests.accounts.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def user(db):
    return UserFactory(username="Alice")


@pytest.fixture
def other_user(db):
    return UserFactory(username="Bob")


@pytest.fixture
def client_for(db):
    """client_for(user): a test client signed in as `user`."""

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def archive_root(tmp_path, settings):
    """Every test writes its text archives to its own folder, never to the project's."""
    root = tmp_path / "archives"
    root.mkdir()
    settings.CAIRN_ARCHIVE_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "archives": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root
