"""Transcription backends (filled in step 6); tests use FakeTranscriber."""


class FakeTranscriber:
    def transcribe(self, path) -> str:
        return "fake transcript"
