import pytest


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
