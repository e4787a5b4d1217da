"""Transcription backends. Pick one with CONVERSATIONS_TRANSCRIBER (a dotted path to a class).

A backend is a class with `transcribe(path) -> str`. The default, PocketSphinxTranscriber, runs
offline with the English model shipped in the `pocketsphinx` wheel. OpenAICompatibleTranscriber
posts the file to an OpenAI-compatible /audio/transcriptions endpoint with the uploading user's own
OpenAI key (saved in onboarding's step 1), or else the key configured for the site.
"""

import hashlib
import json
import threading
import urllib.request
import uuid
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from conversations import audio
from onboarding import services as onboarding_services


class TranscriptionError(RuntimeError):
    """The backend could not transcribe; the message is for the user."""


def get_transcriber(*, user=None):
    """The configured backend; one that bills a key (`uses_user_key`) gets `user`'s own key when they saved one."""
    backend = _load(settings.CONVERSATIONS_TRANSCRIBER)
    if getattr(backend, "uses_user_key", False) and user is not None:
        return backend(api_key=onboarding_services.reveal_api_key(user=user, provider=backend.provider))
    return backend()


@cache
def _load(path: str):
    return import_string(path)


class PocketSphinxTranscriber:
    """Offline English speech recognition. Wants 16 kHz mono 16-bit PCM: conversations.audio makes it.

    Two passes over the recording: the first only estimates the cepstral mean (CMN) from this recording,
    starting from the model's default; the second decodes with it. The result then depends on this file
    alone, not on what the process decoded before, and on synthetic speech the word error rate fell from
    0.50 (one pass from the default) to 0.28 (docs/conversations.md, "Transcription").
    """

    def transcribe(self, path) -> str:
        pcm = audio.decode(path).samples
        if not pcm:
            return ""
        with _decoder_lock:  # one decoder per process, and decoding is not thread-safe
            decoder, initial_cmn = _decoder()
            decoder.set_cmn(initial_cmn)
            for search in (False, True):  # the first pass only updates the CMN: no search
                decoder.start_utt()
                try:
                    decoder.process_raw(pcm, not search, True)
                finally:
                    decoder.end_utt()
            hypothesis = decoder.hyp()
        return hypothesis.hypstr.strip() if hypothesis else ""


_decoder_lock = threading.Lock()


@cache
def _decoder():
    """Loading the model takes about a second: once per process."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=audio.SAMPLE_RATE, loglevel="FATAL")
    return decoder, decoder.get_cmn(False)


class OpenAICompatibleTranscriber:
    """POST the file to CONVERSATIONS_TRANSCRIPTION_URL (OpenAI's /v1/audio/transcriptions shape)."""

    timeout = 120
    uses_user_key = True
    provider = "openai"

    def __init__(self, *, api_key: str | None = None):
        self.api_key = api_key or settings.CONVERSATIONS_TRANSCRIPTION_API_KEY

    def transcribe(self, path) -> str:
        if not self.api_key:
            raise TranscriptionError("No transcription API key: add your OpenAI key in Get started, step 1.")
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
                "Authorization": f"Bearer {self.api_key}",
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
