import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "conversations"


@pytest.fixture(autouse=True)
def audio_root(tmp_path, settings):
    """Uploaded audio goes to the test's own folder, never to the project's var/audio."""
    root = tmp_path / "audio"
    root.mkdir()
    settings.CONVERSATIONS_AUDIO_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "conversation_audio": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.CONVERSATIONS_WEBHOOK_SECRET = "test-webhook-secret"
    return settings.CONVERSATIONS_WEBHOOK_SECRET


@pytest.fixture(autouse=True)
def fake_transcriber(settings):
    """Tests transcribe with the fake backend unless they ask for PocketSphinx (test_transcription)."""
    settings.CONVERSATIONS_TRANSCRIBER = "conversations.transcription.FakeTranscriber"


@pytest.fixture
def sample(tmp_path):
    """A copy of the legacy sample database (tests/fixtures/conversations/legacy.db) the test may change."""
    path = tmp_path / "source" / "legacy.db"
    path.parent.mkdir()
    shutil.copy(FIXTURES / "legacy.db", path)
    return path
