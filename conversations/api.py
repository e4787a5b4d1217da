"""The JSON API: upload-audio, save-analysis and reading a conversation. Thin: the services do the work.

Every error is JSON: {"error": "...", "fields": {...}}. Authentication is the session (DRF), so an
anonymous request gets a JSON 403, never a login redirect.
"""

import hashlib
import json
import logging
import os
import re
import tempfile
import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from conversations import analysis, audio, services, transcription
from conversations.models import Conversation, audio_storage

logger = logging.getLogger("conversations")

REPLAY_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces; UUIDs recommended
AUDIO_TYPES = {
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
    "audio/vnd.wave",
    "audio/webm",
    "video/webm",  # some browsers label MediaRecorder's audio-only WebM so
    "audio/ogg",
    "audio/mpeg",
    "audio/mp3",
    "audio/mp4",
    "audio/x-m4a",
    "audio/aac",
    "audio/flac",
    "audio/x-flac",
}


def error(message: str, status: int, fields: dict | None = None, headers: dict | None = None) -> Response:
    body = {"error": message}
    if fields:
        body["fields"] = fields
    return Response(body, status=status, headers=headers)


def _validation_error(err: ValidationError) -> Response:
    if hasattr(err, "error_dict"):
        fields = {name: [str(m) for e in errors for m in e.messages] for name, errors in err.error_dict.items()}
        return error(" ".join(m for ms in fields.values() for m in ms), 400, fields)
    return error(" ".join(err.messages), 400)


def conversation_json(conversation: Conversation) -> dict:
    return {
        "session_id": conversation.session_id,
        "url": reverse("conversations:detail", args=[conversation.pk]),
        "transcript": conversation.transcript,
        "analysis": conversation.analysis,
        "audio_url": reverse("conversations:audio", args=[conversation.pk]) if conversation.audio else None,
        "audio_filename": conversation.audio_filename,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "history": [
            {"field": r.field, "value": r.value, "replaced_at": r.replaced_at.isoformat(), "replaced_by": r.replaced_by}
            for r in conversation.revisions.all()
        ],
    }


# --- Idempotency-Key ---------------------------------------------------------------------------------------


def _fingerprint(request) -> str:
    """sha256 of the method, path and body: JSON canonically, multipart by its fields and files' sha256."""
    fields = {}
    for name in request.data:
        if name in request.FILES:
            fields[name] = [hashlib.sha256(b"".join(f.chunks())).hexdigest() for f in request.FILES.getlist(name)]
        elif hasattr(request.data, "getlist"):
            fields[name] = request.data.getlist(name)
        else:
            fields[name] = request.data[name]
    canonical = json.dumps([request.method, request.path, fields], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(view):
    """Honour an optional Idempotency-Key header (per user): replay, 422 on another body, 409 while in flight.

    Stored: 2xx and 4xx answers. Not stored: 5xx and 409, so the client may retry those.
    """

    def wrapper(request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(request, *args, **kwargs)
        key = key.strip().strip('"')
        if not KEY_PATTERN.match(key):
            return error("The Idempotency-Key header must be 1 to 255 printable characters (a UUID is best).", 400)
        fingerprint = _fingerprint(request)
        record, claimed = services.claim_idempotency_key(
            owner=request.user, key=key, fingerprint=fingerprint, now=timezone.now()
        )
        if not claimed:
            if record.fingerprint != fingerprint:
                return error("This Idempotency-Key was used with a different request.", 422)
            if record.state == record.State.IN_PROGRESS:
                return error("A request with this Idempotency-Key is still running.", 409, headers={"Retry-After": "1"})
            return Response(record.response_body, status=record.response_code, headers={REPLAY_HEADER: "true"})
        try:
            response = view(request, *args, **kwargs)
        except BaseException:
            services.release_idempotency_key(record=record)
            raise
        if response.status_code >= 500 or response.status_code == 409:
            services.release_idempotency_key(record=record)
        else:
            services.finish_idempotency_key(record=record, status=response.status_code, body=response.data)
        return response

    wrapper.__name__, wrapper.__doc__ = view.__name__, view.__doc__
    return wrapper


# --- endpoints ---------------------------------------------------------------------------------------------

# What the OpenAPI schema (/api/schema/) says of the endpoints; the views validate by hand for clearer errors.
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Same key + same body: the stored reply."
)
CONVERSATION = OpenApiTypes.OBJECT  # conversation_json(): session_id, transcript, analysis, audio_url, history…
UPLOAD = inline_serializer(
    "ConversationUpload", {"session_id": serializers.CharField(), "audio": serializers.FileField()}
)
SAVE = inline_serializer(
    "ConversationAnalysis",
    {
        "session_id": serializers.CharField(),
        "transcript": serializers.CharField(required=False),
        "analysis": serializers.JSONField(required=False),
    },
)


@login_not_required  # DRF answers anonymous requests with a JSON 403 instead of a login redirect
@extend_schema(
    request={"multipart/form-data": UPLOAD},
    responses={200: CONVERSATION, 201: CONVERSATION},
    parameters=[IDEMPOTENCY_KEY],
)
@api_view(["POST"])
@parser_classes([MultiPartParser, FormParser])
@idempotent
def upload_audio(request):
    """Multipart `audio` + `session_id`: store, transcribe, analyze and save the conversation."""
    try:
        session_id = services.clean_session_id(request.data.get("session_id"))
    except ValidationError as err:
        return _validation_error(err)
    upload = request.FILES.get("audio")
    if upload is None:
        return error("Attach the recording as the `audio` field.", 400, {"audio": ["This field is required."]})
    if upload.size > settings.CONVERSATIONS_AUDIO_MAX_BYTES:
        limit = settings.CONVERSATIONS_AUDIO_MAX_BYTES // (1024 * 1024)
        return error(f"The recording is larger than {limit} MB.", 413, {"audio": ["Too large."]})
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    if content_type not in AUDIO_TYPES:
        return error(f"Unsupported audio type {content_type or 'unknown'!r}.", 415, {"audio": ["Unsupported type."]})
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "upload")
        with open(path, "wb") as file:
            for chunk in upload.chunks():
                file.write(chunk)
        try:
            pcm = audio.decode(path)
            transcript = transcription.get_transcriber(user=request.user).transcribe(path)
        except audio.AudioError as err:
            return error(str(err), 400, {"audio": [str(err)]})
        except transcription.TranscriptionError as err:
            return error(str(err), 502)
        extension = os.path.splitext(upload.name or "")[1].lower()[:10] or ".audio"
        with open(path, "rb") as file:
            stored = audio_storage().save(f"conversations/{request.user.pk}/{uuid.uuid4().hex}{extension}", file)
    conversation, created = services.save_conversation(
        owner=request.user,
        session_id=session_id,
        source="upload",
        transcript=transcript,
        analysis=analysis.analyze(transcript, duration=pcm.duration),
        audio=stored,
        audio_filename=upload.name or "",
    )
    return Response(conversation_json(conversation), status=201 if created else 200)


@login_not_required
@extend_schema(request=SAVE, responses={200: CONVERSATION, 201: CONVERSATION}, parameters=[IDEMPOTENCY_KEY])
@api_view(["POST"])
@parser_classes([JSONParser])
@idempotent
def save_analysis(request):
    """JSON {session_id, transcript?, analysis?}: save what it carries into the conversation."""
    data = request.data if isinstance(request.data, dict) else {}
    transcript = data.get("transcript")
    if transcript is not None and not isinstance(transcript, str):
        return error("The transcript must be text.", 400, {"transcript": ["Must be a string."]})
    try:
        conversation, created = services.save_conversation(
            owner=request.user,
            session_id=data.get("session_id"),
            source="save_analysis",
            transcript=transcript,
            analysis=data.get("analysis"),
        )
    except ValidationError as err:
        return _validation_error(err)
    return Response(conversation_json(conversation), status=201 if created else 200)


@login_not_required
@extend_schema(responses={200: CONVERSATION})
@api_view(["GET"])
def conversation_detail(request, session_id):
    """The requesting user's conversation `session_id`; another user's is a 404, like one that does not exist."""
    conversation = services.get_conversation_for_user(user=request.user, session_id=session_id)
    if conversation is None:
        return error("No such conversation.", 404)
    return Response(conversation_json(conversation))
