"""The chat assistant: a small deterministic menu bot over the user's own Cairn data.

A list reply carries its items as `tool_outputs` and offers one button per item. A pick ("2", a
button `pick:2`, or an item's title) is resolved against the newest tool output of the *same* session,
the one the request resolved once; if there is none it says so plainly.
"""

import re
from dataclasses import dataclass, field

from accounts.models import User
from archives import services as archive_services
from conversations.models import ChatSession, Conversation, Message
from onboarding import services as onboarding_services

LIST_SIZE = 5
MENU_BUTTONS = [
    {"id": "conversations", "title": "My conversations"},
    {"id": "prayers", "title": "Prayer requests"},
    {"id": "onboarding", "title": "Onboarding status"},
]
MENU_TEXT = "Hello! What would you like to see?\n1. My conversations\n2. Prayer requests\n3. Onboarding status"
WORDS = {
    "menu": {"menu", "hi", "hello", "help", "start", "hey"},
    "conversations": {"conversations", "my conversations", "conversation", "recordings"},
    "prayers": {"prayers", "prayer", "prayer requests", "my prayer requests", "requests"},
    "onboarding": {"onboarding", "onboarding status", "status", "setup"},
}


@dataclass(frozen=True)
class Answer:
    body: str
    buttons: list = field(default_factory=list)
    tool_outputs: dict | None = None


def respond(*, user: User, session: ChatSession, inbound: Message) -> Answer:
    """The assistant's answer to `inbound`; reads only `user`'s data and `session`'s messages."""
    choice = (inbound.button_id or inbound.body).strip()
    text = re.sub(r"\s+", " ", choice.casefold())
    if text in WORDS["menu"]:
        return Answer(MENU_TEXT, MENU_BUTTONS)
    if text in WORDS["conversations"]:
        return _list_conversations(user)
    if text in WORDS["prayers"]:
        return _list_prayer_requests(user)
    if text in WORDS["onboarding"]:
        return _onboarding_status(user)
    if text.startswith("pick:") or text.isdigit() or _latest_tool_output(session, before=inbound) is not None:
        picked = _pick(user, session, inbound, text)
        if picked is not None:
            return picked
    return Answer("Sorry, I did not understand that.\n" + MENU_TEXT, MENU_BUTTONS)


def _buttons(items: list[dict]) -> list[dict]:
    return [{"id": f"pick:{n}", "title": item["title"][:20].rstrip()} for n, item in enumerate(items, start=1)]


def _numbered(items: list[dict]) -> str:
    return "\n".join(f"{n}. {item['title']}" for n, item in enumerate(items, start=1))


def _list_conversations(user: User) -> Answer:
    rows = Conversation.objects.for_user(user).only("session_id", "transcript", "created_at")[:LIST_SIZE]
    items = [
        {"id": c.session_id, "title": _title(c.transcript) or f"Recorded {c.created_at:%Y-%m-%d %H:%M}"} for c in rows
    ]
    if not items:
        return Answer("You have no recorded conversations yet.", MENU_BUTTONS)
    tool_outputs = {"tool": "list_conversations", "items": items}
    return Answer("Your latest conversations:\n" + _numbered(items), _buttons(items), tool_outputs)


def _list_prayer_requests(user: User) -> Answer:
    items = [{"id": p["archive_id"], "title": _title(p["request"])} for p in prayer_requests_of(user)[:LIST_SIZE]]
    if not items:
        return Answer("You have no prayer requests on the wall.", MENU_BUTTONS)
    tool_outputs = {"tool": "list_prayer_requests", "items": items}
    return Answer("Your prayer requests:\n" + _numbered(items), _buttons(items), tool_outputs)


def prayer_requests_of(user: User):
    """The user's own prayer requests, newest first (read through archives' services)."""
    return archive_services.prayer_requests_of(user=user)


def _onboarding_status(user: User) -> Answer:
    """Where the user is in the onboarding wizard, read through onboarding's services (creates nothing)."""
    summary = onboarding_services.summary_for_user(user)
    session = summary.session
    if session.is_completed:
        lines = [f"Onboarding is complete (since {session.completed_at:%Y-%m-%d})."]
    elif session.pk is None:
        lines = ["You have not started onboarding yet: open Get started on the website."]
    else:
        lines = [f"Onboarding: you are at step {session.current_step} of 6."]
    if summary.keys:
        lines.append(f"API keys: {', '.join(key['label'] for key in summary.keys)}.")
    if summary.website is not None:
        lines.append(f"Website: {summary.website.url}.")
    return Answer("\n".join(lines), MENU_BUTTONS)


def _title(text: str, length: int = 60) -> str:
    text = re.sub(r"\s+", " ", text or "").strip()
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _latest_tool_output(session: ChatSession, *, before: Message) -> dict | None:
    """The newest tool output sent in this session before `before` (the recent messages only)."""
    recent = (
        session.messages.filter(direction=Message.Direction.OUT, tool_outputs__isnull=False)
        .exclude(pk=before.pk)
        .order_by("-created_at", "-pk")
        .values_list("tool_outputs", flat=True)[:1]
    )
    for outputs in recent:
        if isinstance(outputs, dict) and isinstance(outputs.get("items"), list):
            return outputs
    return None


def _pick(user: User, session: ChatSession, inbound: Message, text: str) -> Answer | None:
    outputs = _latest_tool_output(session, before=inbound)
    if outputs is None:
        return Answer(
            "I can't find a list in this chat to pick from. Send “menu” to see what I can show you.", MENU_BUTTONS
        )
    items = outputs["items"]
    number = text.removeprefix("pick:")
    if number.isdigit():
        index = int(number) - 1
        if not 0 <= index < len(items):
            return Answer(f"Please pick a number from 1 to {len(items)}.", _buttons(items))
        item = items[index]
    else:
        item = next((i for i in items if str(i.get("title", "")).casefold() == text), None)
        if item is None:
            return None
    if outputs.get("tool") == "list_conversations":
        return _conversation_details(user, item)
    if outputs.get("tool") == "list_prayer_requests":
        return _prayer_details(user, item)
    return Answer(f"{item.get('title', item.get('id'))}", MENU_BUTTONS)


def _conversation_details(user: User, item: dict) -> Answer:
    conversation = Conversation.objects.for_user(user).filter(session_id=item.get("id")).first()
    if conversation is None:
        return Answer("That conversation is no longer there.", MENU_BUTTONS)
    lines = [f"Conversation of {conversation.created_at:%Y-%m-%d %H:%M}"]
    analysis = conversation.analysis if isinstance(conversation.analysis, dict) else {}
    if analysis.get("summary"):
        lines.append(f"Summary: {analysis['summary']}")
    if analysis.get("sentiment"):
        sentiment = analysis["sentiment"]
        lines.append(f"Sentiment: {sentiment.get('label', '') if isinstance(sentiment, dict) else sentiment}")
    if conversation.transcript:
        lines.append(f"Transcript: {_title(conversation.transcript, 200)}")
    return Answer("\n".join(lines), MENU_BUTTONS)


def _prayer_details(user: User, item: dict) -> Answer:
    prayer = prayer_requests_of(user).filter(archive_id=item.get("id")).first()
    if prayer is None:
        return Answer("That prayer request is no longer there.", MENU_BUTTONS)
    state = "answered" if prayer["is_answered"] else "archived" if prayer["is_archived"] else "on the wall"
    return Answer(f"{prayer['request']}\n({state}, since {prayer['submitted_at']:%Y-%m-%d})", MENU_BUTTONS)
