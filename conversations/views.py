from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from conversations import services
from conversations.forms import ChatForm
from conversations.models import ChatSession, Conversation

LIST_PAGE_SIZE = 20
HISTORY_PAGE_SIZE = 20
CHAT_MESSAGES = 100


def _get_conversation_for_user(request, pk) -> Conversation:
    return get_object_or_404(Conversation, pk=pk, owner=request.user)


def _get_session_for_user(request, pk) -> ChatSession:
    return get_object_or_404(ChatSession, pk=pk, user=request.user)


@require_GET
def conversation_list(request):
    conversations = Conversation.objects.for_user(request.user).only(
        "pk", "session_id", "transcript", "created_at", "updated_at", "audio", "analysis"
    )
    page = Paginator(conversations, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "conversations/list.html", {"page": page})


@require_GET
def conversation_detail(request, pk):
    conversation = _get_conversation_for_user(request, pk)
    context = {"conversation": conversation, "revisions": conversation.revisions.all()}
    return render(request, "conversations/detail.html", context)


@require_GET
def conversation_audio(request, pk):
    """The recording, streamed to its owner only."""
    conversation = _get_conversation_for_user(request, pk)
    if not conversation.audio:
        raise Http404("This conversation has no recording.")
    try:
        file = conversation.audio.open("rb")
    except FileNotFoundError:
        raise Http404("The recording file is missing.") from None
    return FileResponse(file, filename=conversation.audio_filename or None)


@require_GET
def record(request):
    """Record in the browser (MediaRecorder) or pick a file; the page posts to the upload API."""
    return render(request, "conversations/record.html")


@require_http_methods(["GET", "POST"])
def chat(request):
    form = ChatForm(request.POST or None)
    if request.method == "POST" and form.is_valid():  # then a new form (a new message id) after the redirect
        try:
            services.receive_message(
                user=request.user,
                external_id=form.cleaned_data["message_id"],
                body=form.cleaned_data["body"],
                button_id=form.cleaned_data["button_id"],
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        return redirect("conversations:chat")
    if request.method == "POST":
        for message in form.non_field_errors():
            messages.error(request, message)
        return redirect("conversations:chat")
    session = services.active_session_for_user(user=request.user)
    chat_messages = []
    if session is not None:
        chat_messages = list(session.messages.order_by("-created_at", "-pk")[:CHAT_MESSAGES])[::-1]
    return render(
        request, "conversations/chat.html", {"form": form, "session": session, "chat_messages": chat_messages}
    )


@require_GET
def chat_history(request):
    sessions = (
        ChatSession.objects.filter(user=request.user).select_related("merged_into").order_by("-started_at", "-pk")
    )
    page = Paginator(sessions, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "conversations/chat_history.html", {"page": page})


@require_GET
def chat_session(request, pk):
    session = _get_session_for_user(request, pk)
    chat_messages = session.messages.order_by("created_at", "pk")
    return render(request, "conversations/chat_session.html", {"session": session, "chat_messages": chat_messages})
