"""The AI and research providers a user can store a key for, with the key format where one is known."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    slug: str
    label: str
    pattern: re.Pattern | None  # None: no published format, any non-blank key is accepted
    example: str  # the shape, for the form's help text (never a real key)


PROVIDERS = {
    p.slug: p
    for p in [
        Provider("gemini", "Google Gemini", re.compile(r"AIza[0-9A-Za-z_-]{35}"), "AIza + 35 characters"),
        Provider("openai", "OpenAI", re.compile(r"sk-[A-Za-z0-9_-]{20,}"), "sk-…"),
        Provider("anthropic", "Anthropic", re.compile(r"sk-ant-[A-Za-z0-9_-]{20,}"), "sk-ant-…"),
        Provider(
            "exa",
            "Exa",
            re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
            "a UUID (8-4-4-4-12 hex digits)",
        ),
        Provider("tavily", "Tavily", re.compile(r"tvly-[A-Za-z0-9_-]{16,}"), "tvly-…"),
        Provider("serper", "Serper", re.compile(r"[0-9a-f]{40}"), "40 hex digits"),
        Provider("firecrawl", "Firecrawl", re.compile(r"fc-[A-Za-z0-9]{16,}"), "fc-…"),
        Provider("copilotkit", "CopilotKit", re.compile(r"ck_pub_[A-Za-z0-9]{16,}"), "ck_pub_…"),
        Provider("huggingface", "Hugging Face", re.compile(r"hf_[A-Za-z0-9]{30,}"), "hf_…"),
        Provider("mistral", "Mistral", None, "any"),
    ]
}

PROVIDER_CHOICES = [(p.slug, p.label) for p in PROVIDERS.values()]


def normalize_provider(name: str) -> str:
    return name.strip().lower()


def key_format_error(provider: str, key: str) -> str | None:
    """A sentence saying why `key` cannot be a key of `provider`, or None when it can."""
    if not key or key != key.strip():
        return "Paste the key without spaces around it." if key.strip() else "Enter a key."
    if any(ch.isspace() for ch in key):
        return "A key has no spaces in it."
    known = PROVIDERS.get(provider)
    if known and known.pattern and not known.pattern.fullmatch(key):
        return f"That does not look like a {known.label} key (expected {known.example})."
    return None
