"""The messaging provider's inbound webhook: POST /api/conversations/messages (form-encoded).

Fields: `user` (the user's external id), `message_id` (the provider's id; a retry repeats it), `body`
and/or `button_id`. A missing or wrong X-Cairn-Signature is a 403 and an unknown user a 404; neither
writes anything.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import User
from conversations import services, signatures

REPLAY_HEADER = "Idempotent-Replayed"


def _signed_url(request) -> str:
    base = settings.CONVERSATIONS_WEBHOOK_URL
    if base:
        query = request.META.get("QUERY_STRING", "")
        return base + (f"?{query}" if query else "")
    return request.build_absolute_uri()


@csrf_exempt  # the provider cannot send a CSRF token; the HMAC signature authenticates it instead
@login_not_required
@require_POST
def receive(request):
    params = {name: request.POST.getlist(name) for name in request.POST}
    if not signatures.is_valid(
        secret=settings.CONVERSATIONS_WEBHOOK_SECRET,
        url=_signed_url(request),
        params=params,
        signature=request.headers.get(signatures.HEADER),
    ):
        return JsonResponse({"error": "Missing or invalid signature."}, status=403)
    external_id = request.POST.get("user", "").strip()
    user = User.objects.filter(external_id=external_id, is_active=True).first() if external_id else None
    if user is None:
        return JsonResponse({"error": "Unknown user."}, status=404)
    message_id = request.POST.get("message_id", "").strip()
    if not message_id or len(message_id) > 64:
        problem = "A message_id of at most 64 characters is required."
        return JsonResponse({"error": problem, "fields": {"message_id": [problem]}}, status=400)
    try:
        turn = services.receive_message(
            user=user,
            external_id=message_id,
            body=request.POST.get("body", ""),
            button_id=request.POST.get("button_id", ""),
        )
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    reply = turn.reply
    body = {
        "session": turn.session.pk,
        "message": turn.inbound.pk,
        "reply": {"body": reply.body, "buttons": reply.buttons} if reply else None,
    }
    return JsonResponse(body, status=200, headers={REPLAY_HEADER: "true"} if turn.retry else None)
