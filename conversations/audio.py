"""Decode uploaded audio (WAV, WebM/Opus from browsers, Ogg, MP3, M4A…) with PyAV, whose wheel ships FFmpeg."""

from dataclasses import dataclass

import av
from django.conf import settings

SAMPLE_RATE = 16000  # what PocketSphinx's English model wants: 16 kHz mono signed 16-bit


class AudioError(ValueError):
    """The file is not audio we can read, or is too long; the message is for the user."""


@dataclass(frozen=True)
class Pcm:
    samples: bytes  # signed 16-bit little-endian, mono
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / 2 / self.sample_rate


def decode(path, *, sample_rate: int = SAMPLE_RATE, max_seconds: int | None = None) -> Pcm:
    """The audio of `path` resampled and down-mixed to mono 16-bit PCM at `sample_rate`."""
    max_seconds = max_seconds or settings.CONVERSATIONS_AUDIO_MAX_SECONDS
    limit = max_seconds * sample_rate * 2
    chunks, size = [], 0
    try:
        with av.open(str(path)) as container:
            streams = [s for s in container.streams if s.type == "audio"]
            if not streams:
                raise AudioError("The file has no audio track.")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
            for frame in container.decode(streams[0]):
                for out in resampler.resample(frame):
                    chunk = bytes(out.planes[0])[: out.samples * 2]
                    chunks.append(chunk)
                    size += len(chunk)
                if size > limit:
                    raise AudioError(f"The recording is longer than {max_seconds // 60} minutes.")
            for out in resampler.resample(None):
                chunks.append(bytes(out.planes[0])[: out.samples * 2])
    except AudioError:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError) as error:
        raise AudioError(f"The file could not be read as audio ({error.__class__.__name__}).") from None
    return Pcm(samples=b"".join(chunks), sample_rate=sample_rate)
