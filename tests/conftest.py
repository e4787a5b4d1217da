import os

import pytest
from django.db import connections
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


@pytest.fixture
def archive_files(archive_root):
    """archive_files() -> {relative name: bytes} of every file under the test's archive root, to compare."""
    return lambda: {
        str(p.relative_to(archive_root)): p.read_bytes() for p in sorted(archive_root.rglob("*")) if p.is_file()
    }


CHROMIUM = "/usr/bin/chromium"

# For browser tests: `pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]` and the `browser` fixture.
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("CI") != "true",
    reason=f"{CHROMIUM} is missing (apt-get install chromium; scripts/test installs it when run as root)",
)


@pytest.fixture
def browser(monkeypatch):
    """Headless Chromium through Playwright, Debian's build (Playwright cannot download its own here).

    Make the test's database rows before asking for this fixture: ORM calls made while Playwright's event
    loop runs in this thread get connections of their own (asgiref's context-local storage).
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop in this thread
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            yield browser
        finally:
            browser.close()
            # ORM calls the test made while the loop ran opened connections of their own: close them, or the
            # test database cannot be dropped at the end of the run.
            connections.close_all()
