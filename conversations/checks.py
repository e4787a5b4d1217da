from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string


@register()
def transcriber_is_importable(app_configs, **kwargs):
    """CONVERSATIONS_TRANSCRIBER must name a class with transcribe(path); found at start-up, not at the first upload."""
    path = settings.CONVERSATIONS_TRANSCRIBER
    try:
        backend = import_string(path)
    except ImportError as error:
        return [
            Error(
                f"CONVERSATIONS_TRANSCRIBER {path!r} cannot be imported ({error}).",
                hint="Use e.g. conversations.transcription.PocketSphinxTranscriber (the offline default).",
                id="conversations.E001",
            )
        ]
    if not callable(getattr(backend, "transcribe", None)):
        return [Error(f"CONVERSATIONS_TRANSCRIBER {path!r} has no transcribe(path) method.", id="conversations.E002")]
    return []
