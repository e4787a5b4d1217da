"""Build a writing persona from a style analysis (or a business description) and research preferences.

Deterministic, like the analysis it reads: the same inputs give the same persona.
"""

PLATFORMS = {
    "blog": "Blog",
    "linkedin": "LinkedIn",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "x": "X (Twitter)",
    "medium": "Medium",
    "newsletter": "Email newsletter",
}
PLATFORM_CHOICES = list(PLATFORMS.items())

# Per platform: (target sentence length cap, post length, format, hashtags)
_PLATFORM_RULES = {
    "blog": (None, "800–1500 words", "long-form article with headings", 0),
    "linkedin": (20, "150–300 words", "short paragraphs, a hook line, one question at the end", 3),
    "instagram": (15, "80–150 words", "caption with line breaks and emoji used sparingly", 8),
    "facebook": (18, "60–120 words", "conversational post with one call to action", 2),
    "x": (14, "under 280 characters", "one idea per post, threads for more", 2),
    "medium": (None, "1000–2000 words", "story-led essay", 0),
    "newsletter": (None, "300–600 words", "personal letter with links", 0),
}


def build_persona(*, analysis: dict | None, preferences, description: str, platforms: list[str]) -> dict:
    """The four PersonaData fields."""
    style = (analysis or {}).get("writing_style") or {}
    settings = (analysis or {}).get("recommended_settings") or {}
    audience = (analysis or {}).get("target_audience") or {}
    patterns = (analysis or {}).get("style_patterns") or {}
    core = {
        "identity": _identity(style, description),
        "tone": style.get("tone", "informative"),
        "voice": style.get("voice", "active"),
        "person": style.get("person", "first person"),
        "formality": style.get("formality", "neutral"),
        "audience": audience.get("expertise_level", "general"),
        "content_type": settings.get("content_type", "blog post"),
        "target_sentence_length": settings.get("target_sentence_length", 16),
        "vocabulary": patterns.get("top_keywords", [])[:8],
        "research": (
            {
                "depth": preferences.research_depth,
                "content_types": preferences.content_types,
                "fact_checked": bool(preferences.factual_content),
            }
            if preferences
            else None
        ),
        "source": "website analysis" if analysis else ("business description" if description else "defaults"),
    }
    return {
        "core_persona": core,
        "platform_personas": platform_personas(core, platforms, None),
        "quality_metrics": quality_metrics(core, platforms, edited=False, has_analysis=bool(analysis)),
        "selected_platforms": list(platforms),
    }


def _identity(style: dict, description: str) -> str:
    if description:
        first = description.strip().split(".")[0][:160]
        return f"The voice of {first}"
    if style:
        tone = style.get("tone", "clear")
        return f"{'An' if tone[:1].lower() in 'aeiou' else 'A'} {tone}, {style.get('formality', 'neutral')} writer"
    return "A clear, helpful writer"


def platform_personas(core: dict, platforms: list[str], existing) -> dict:
    """One adaptation per chosen platform; an edited one the user keeps is not regenerated."""
    kept = (existing.platform_personas or {}) if existing is not None else {}
    result = {}
    base = core.get("target_sentence_length") or 16
    for slug in platforms:
        if slug in kept and isinstance(kept[slug], dict) and kept[slug].get("edited"):
            result[slug] = kept[slug]
            continue
        cap, length, form, hashtags = _PLATFORM_RULES.get(slug, (None, "any", "free form", 0))
        result[slug] = {
            "platform": PLATFORMS.get(slug, slug),
            "sentence_length": min(base, cap) if cap else base,
            "length": length,
            "format": form,
            "hashtags": hashtags,
            "tone": core.get("tone"),
        }
    return result


def quality_metrics(core: dict, platforms: list[str], *, edited: bool, has_analysis: bool = True) -> dict:
    filled = sum(1 for value in core.values() if value not in (None, "", [], {}))
    return {
        "completeness": round(100 * filled / max(len(core), 1)),
        "platform_coverage": len(platforms),
        "based_on_analysis": has_analysis,
        "edited_by_user": edited,
    }
