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
