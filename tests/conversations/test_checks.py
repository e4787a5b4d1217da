from conversations.checks import transcriber_is_importable


def test_the_default_transcriber_passes(settings):
    settings.CONVERSATIONS_TRANSCRIBER = "conversations.transcription.PocketSphinxTranscriber"
    assert transcriber_is_importable(None) == []


def test_a_transcriber_that_cannot_be_imported_is_an_error(settings):
    settings.CONVERSATIONS_TRANSCRIBER = "conversations.transcription.NoSuchBackend"
    assert [error.id for error in transcriber_is_importable(None)] == ["conversations.E001"]


def test_a_class_without_transcribe_is_an_error(settings):
    settings.CONVERSATIONS_TRANSCRIBER = "conversations.models.Conversation"
    assert [error.id for error in transcriber_is_importable(None)] == ["conversations.E002"]
