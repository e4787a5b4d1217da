"""Transcription backends. Pick one with CONVERSATIONS_TRANSCRIBER (a dotted path to a class).

A backend is a class with `transcribe(path) -> str`. The default, PocketSphinxTranscriber, runs
offline with the English model shipped in the `pocketsphinx` wheel. OpenAICompatibleTranscriber
posts the file to an OpenAI-compatible /audio/transcriptions endpoint with the configured key.
"""

import hashlib
import json
import urllib.request
import uuid
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from conversations import audio


class TranscriptionError(RuntimeError):
    """The backend could not transcribe; the message is for the user."""


def get_transcriber():
    return _load(settings.CONVERSATIONS_TRANSCRIBER)()


@cache
def _load(path: str):
    return import_string(path)


class PocketSphinxTranscriber:
    """Offline English speech recognition. Wants 16 kHz mono 16-bit PCM: conversations.audio makes it."""

    def transcribe(self, path) -> str:
        pcm = audio.decode(path)
        decoder = _decoder()
        decoder.start_utt()
        decoder.process_raw(pcm.samples, no_search=False, full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        return hypothesis.hypstr.strip() if hypothesis else ""


@cache
def _decoder():
    """One decoder per process: loading the model takes about a second. Decoding is not thread-safe."""
    from pocketsphinx import Decoder

    return _Locked(Decoder(samprate=audio.SAMPLE_RATE, loglevel="FATAL"))


class _Locked:
    """Serialize use of the shared decoder between threads of one process (a speed detail, not a data rule)."""

    def __init__(self, decoder):
        import threading

        self._decoder, self._lock = decoder, threading.RLock()

    def __getattr__(self, name):
        return getattr(self._decoder, name)

    def start_utt(self):
        self._lock.acquire()
        self._decoder.start_utt()

    def end_utt(self):
        try:
            self._decoder.end_utt()
        finally:
            self._lock.release()


class OpenAICompatibleTranscriber:
    """POST the file to CONVERSATIONS_TRANSCRIPTION_URL (OpenAI's /v1/audio/transcriptions shape)."""

    timeout = 120

    def transcribe(self, path) -> str:
        if not settings.CONVERSATIONS_TRANSCRIPTION_API_KEY:
            raise TranscriptionError("No transcription API key is configured.")
        boundary = uuid.uuid4().hex
        with open(path, "rb") as file:
            data = file.read()
        parts = [
            _form_field(boundary, "model", settings.CONVERSATIONS_TRANSCRIPTION_MODEL),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="audio"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + data
            + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
        request = urllib.request.Request(
            settings.CONVERSATIONS_TRANSCRIPTION_URL,
            data=b"".join(parts),
            headers={
                "Authorization": f"Bearer {settings.CONVERSATIONS_TRANSCRIPTION_API_KEY}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                return str(json.load(response).get("text", "")).strip()
        except (OSError, ValueError) as error:
            raise TranscriptionError(f"The transcription service failed ({error.__class__.__name__}).") from None


def _form_field(boundary: str, name: str, value: str) -> bytes:
    return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


class FakeTranscriber:
    """For tests and demos: no recognition, a transcript derived from the file's bytes."""

    def transcribe(self, path) -> str:
        with open(path, "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()[:8]
        return f"Fake transcript {digest}. How are you today?"
