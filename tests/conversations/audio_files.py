"""Small real audio files for upload tests."""

import io
import math
import struct
import wave


def wav_bytes(*, seconds: float = 0.2, rate: int = 22050, tone: float = 440.0, channels: int = 1) -> bytes:
    """A 16-bit PCM WAV of a sine tone; different arguments give different bytes."""
    frames = int(seconds * rate)
    samples = (int(8000 * math.sin(2 * math.pi * tone * n / rate)) for n in range(frames))
    data = b"".join(struct.pack("<h", s) * channels for s in samples)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data)
    return buffer.getvalue()
