"""Synthetic speech for transcription tests: Debian's espeak-ng (scripts/system-packages.txt)."""

import os
import shutil
import subprocess

import av
import pytest

# espeak-ng's Klatt voice: PocketSphinx recognizes it far better than the default voice
# (word error rate 0.28 against 0.84 on the sentences below; docs/conversations.md).
VOICE = "en-us+klatt2"
SENTENCES = [
    "please pray for my sister",
    "we need the scaffolding down by friday",
    "the tiles arrived damaged two boxes",
    "please send the revised quote",
    "the crew starts at seven in the morning",
    "thank you for your help today",
    "let us move the inspection to tuesday",
    "who signs off the electrical work",
]


def require_espeak():
    if shutil.which("espeak-ng"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("espeak-ng is missing: scripts/test installs it from scripts/system-packages.txt when root")
    pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


def speak(text: str, path) -> str:
    """A 22 kHz mono WAV of `text`."""
    require_espeak()
    subprocess.run(["espeak-ng", "-v", VOICE, "-w", str(path), text], check=True, capture_output=True)
    return str(path)


def to_webm_opus(source, target) -> str:
    """Re-encode as the browser's MediaRecorder does: WebM with Opus at 48 kHz."""
    with av.open(str(source)) as inp, av.open(str(target), "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000)
        for frame in inp.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return str(target)
