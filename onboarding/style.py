"""A deterministic writing-style profile from measured text statistics.

`measure(text)` counts (sentences, paragraphs, words, readability grades from textstat, person, voice, tone
markers); `profile(stats)` turns the numbers into the fields ALwrity's analysis had (writing_style,
content_characteristics, target_audience, content_type, recommended_settings, style_patterns,
style_guidelines) by fixed thresholds. Same text, same profile: no model, no randomness, no clock.
"""

import re
import statistics
from collections import Counter

import textstat

PROFILE_VERSION = 1

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)*")
_PASSIVE = re.compile(r"\b(?:am|is|are|was|were|be|been|being)\s+(?:\w+ly\s+)?\w+(?:ed|en)\b", re.IGNORECASE)

FIRST_PERSON = {"i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves"}
SECOND_PERSON = {"you", "your", "yours", "yourself", "yourselves"}
THIRD_PERSON = {"he", "him", "his", "she", "her", "hers", "they", "them", "their", "theirs", "it", "its"}
HEDGES = {"may", "might", "perhaps", "possibly", "likely", "often", "usually", "generally", "typically", "could"}
PROMOTIONAL = {
    "best", "free", "amazing", "exclusive", "guaranteed", "limited", "offer", "discount", "save", "new",
    "premium", "ultimate", "perfect", "award-winning", "leading", "trusted",
}  # fmt: skip
CALLS_TO_ACTION = {"buy", "order", "book", "call", "contact", "subscribe", "sign", "join", "shop", "download", "try"}
INSTRUCTIONAL = {"step", "steps", "first", "next", "then", "finally", "how", "guide", "tip", "tips", "tutorial"}
STOPWORDS = (
    FIRST_PERSON
    | SECOND_PERSON
    | THIRD_PERSON
    | {
        "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "for", "with", "by", "from",
        "as", "is", "are", "was", "were", "be", "been", "being", "this", "that", "these", "those", "it's",
        "not", "no", "so", "than", "then", "there", "here", "what", "which", "who", "when", "where", "why",
        "how", "all", "any", "can", "will", "would", "should", "do", "does", "did", "have", "has", "had",
        "about", "into", "over", "after", "before", "more", "most", "also", "just", "only", "up", "out",
        "very", "each", "other", "some", "such", "our", "we're", "you're", "don't", "isn't", "one",
    }
)  # fmt: skip


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def split_sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]


def measure(text: str) -> dict:
    """Numbers only: everything `profile()` decides from."""
    paragraphs = [p.strip() for p in re.split(r"\n+", text) if p.strip()]
    sentences = [s for p in paragraphs for s in split_sentences(p)]
    words = [w.lower() for w in _WORD.findall(text)]
    sentence_lengths = [len(_WORD.findall(s)) for s in sentences] or [0]
    paragraph_lengths = [len(_WORD.findall(p)) for p in paragraphs] or [0]
    counts = Counter(words)
    total = len(words)
    contractions = sum(1 for w in words if "'" in w or "’" in w)
    starters = Counter(_WORD.findall(s)[0].lower() for s in sentences if _WORD.findall(s))

    def per_100(n: int) -> float:
        return round(100 * n / total, 2) if total else 0.0

    keywords = Counter({w: n for w, n in counts.items() if w not in STOPWORDS and len(w) > 3 and not w[0].isdigit()})
    return {
        "word_count": total,
        "sentence_count": len(sentences),
        "paragraph_count": len(paragraphs),
        "sentence_length": {
            "mean": round(statistics.fmean(sentence_lengths), 2),
            "median": statistics.median(sentence_lengths),
            "stdev": round(statistics.pstdev(sentence_lengths), 2),
            "shortest": min(sentence_lengths),
            "longest": max(sentence_lengths),
            "short_share": _ratio(sum(1 for n in sentence_lengths if n <= 10), len(sentence_lengths)),
            "long_share": _ratio(sum(1 for n in sentence_lengths if n >= 25), len(sentence_lengths)),
        },
        "paragraph_length": {
            "mean_words": round(statistics.fmean(paragraph_lengths), 2),
            "mean_sentences": round(len(sentences) / len(paragraphs), 2) if paragraphs else 0.0,
        },
        "vocabulary": {
            "unique_words": len(counts),
            "type_token_ratio": _ratio(len(counts), total),
            # Guiraud's index (types / sqrt(tokens)) depends less on the text's length than the plain ratio.
            "root_ttr": round(len(counts) / total**0.5, 3) if total else 0.0,
            "long_word_share": _ratio(sum(1 for w in words if len(w) >= 7), total),
        },
        "readability": {
            "flesch_reading_ease": round(textstat.flesch_reading_ease(text), 1) if total else 0.0,
            "flesch_kincaid_grade": round(textstat.flesch_kincaid_grade(text), 1) if total else 0.0,
            "gunning_fog": round(textstat.gunning_fog(text), 1) if total else 0.0,
            "coleman_liau_index": round(textstat.coleman_liau_index(text), 1) if total else 0.0,
            "automated_readability_index": round(textstat.automated_readability_index(text), 1) if total else 0.0,
        },
        "person": {
            "first": _ratio(sum(counts[w] for w in FIRST_PERSON), total),
            "second": _ratio(sum(counts[w] for w in SECOND_PERSON), total),
            "third": _ratio(sum(counts[w] for w in THIRD_PERSON), total),
        },
        "passive_share": _ratio(sum(1 for s in sentences if _PASSIVE.search(s)), len(sentences)),
        "markers": {
            "question_share": _ratio(sum(1 for s in sentences if s.rstrip("\"'”’)").endswith("?")), len(sentences)),
            "exclamation_share": _ratio(sum(1 for s in sentences if s.rstrip("\"'”’)").endswith("!")), len(sentences)),
            "contractions_per_100_words": per_100(contractions),
            "hedges_per_100_words": per_100(sum(counts[w] for w in HEDGES)),
            "promotional_per_100_words": per_100(sum(counts[w] for w in PROMOTIONAL)),
            "calls_to_action_per_100_words": per_100(sum(counts[w] for w in CALLS_TO_ACTION)),
            "instructional_per_100_words": per_100(sum(counts[w] for w in INSTRUCTIONAL)),
            "numbers_per_100_words": per_100(sum(1 for w in words if w[0].isdigit())),
        },
        "common_sentence_starters": [w for w, _ in sorted(starters.items(), key=lambda kv: (-kv[1], kv[0]))[:5]],
        "top_keywords": [w for w, _ in sorted(keywords.items(), key=lambda kv: (-kv[1], kv[0]))[:10]],
    }


def _band(value: float, bands: list[tuple[float, str]], last: str) -> str:
    for limit, label in bands:
        if value <= limit:
            return label
    return last


def profile(stats: dict) -> dict:
    """The style fields, decided from `measure()`'s numbers by fixed thresholds."""
    grade = stats["readability"]["flesch_kincaid_grade"]
    person = stats["person"]
    markers = stats["markers"]
    complexity = _band(grade, [(6, "simple"), (10, "moderate"), (14, "advanced")], "expert")
    expertise = {"simple": "beginner", "moderate": "intermediate", "advanced": "advanced", "expert": "expert"}[
        complexity
    ]
    if person["first"] + person["second"] < 0.005:
        dominant_person = "third person"  # impersonal text: no I, we or you to speak of
    else:
        dominant_person = max(
            [("first person", person["first"]), ("second person", person["second"]), ("third person", person["third"])],
            key=lambda kv: kv[1],
        )[0]
    voice = _band(stats["passive_share"], [(0.1, "active"), (0.25, "mostly active")], "passive-heavy")
    contractions = markers["contractions_per_100_words"]
    if contractions >= 1.5 or person["second"] >= 0.03:
        formality = "conversational"
    elif contractions <= 0.3 and person["first"] + person["second"] < 0.01:
        formality = "formal"
    else:
        formality = "neutral"
    if markers["exclamation_share"] >= 0.1 or markers["promotional_per_100_words"] >= 2:
        tone = "enthusiastic"
    elif markers["question_share"] >= 0.15:
        tone = "inquisitive"
    elif markers["hedges_per_100_words"] >= 1.5:
        tone = "measured"
    elif formality == "conversational":
        tone = "friendly"
    else:
        tone = "informative"
    engagement_score = person["second"] * 10 + markers["question_share"] + markers["exclamation_share"]
    engagement = _band(engagement_score, [(0.15, "low"), (0.4, "medium")], "high")
    if markers["instructional_per_100_words"] >= 1.5:
        content_type, purpose = "how-to guide", "instruct"
    elif markers["calls_to_action_per_100_words"] >= 1 or markers["promotional_per_100_words"] >= 2:
        content_type, purpose = "product or service page", "persuade"
    elif person["first"] >= 0.02:
        content_type, purpose = "blog post", "share experience"
    else:
        content_type, purpose = "article", "inform"
    words = stats["word_count"]
    length = _band(words, [(300, "short"), (1200, "medium")], "long")
    sentence_mean = stats["sentence_length"]["mean"]
    ttr = stats["vocabulary"]["root_ttr"]
    vocabulary_level = _band(ttr, [(5, "basic"), (8, "varied")], "rich")
    creativity = {"enthusiastic": "high", "friendly": "medium", "inquisitive": "medium"}.get(tone, "low")

    guidelines = [
        f"Write in the {dominant_person}, {voice} voice, with a {tone} tone.",
        f"Keep sentences around {round(sentence_mean)} words; paragraphs around "
        f"{round(stats['paragraph_length']['mean_sentences'] or 1)} sentences.",
        f"Aim for a reading grade near {round(grade)} (Flesch reading ease "
        f"{stats['readability']['flesch_reading_ease']:g}).",
    ]
    if stats["top_keywords"]:
        guidelines.append("Come back to the site's own vocabulary: " + ", ".join(stats["top_keywords"][:5]) + ".")
    avoid = []
    if voice == "active":
        avoid.append("Passive constructions: the site almost never uses them.")
    if formality != "formal":
        avoid.append("Stiff, formal phrasing.")
    else:
        avoid.append("Slang and contractions.")
    if markers["exclamation_share"] < 0.05:
        avoid.append("Exclamation marks.")
    if stats["sentence_length"]["long_share"] < 0.1:
        avoid.append("Sentences over 25 words.")

    return {
        "writing_style": {
            "tone": tone,
            "voice": voice,
            "person": dominant_person,
            "complexity": complexity,
            "formality": formality,
            "engagement_level": engagement,
        },
        "content_characteristics": {
            "sentence_structure": _band(
                sentence_mean, [(12, "short and direct"), (20, "balanced")], "long and complex"
            ),
            "vocabulary_level": vocabulary_level,
            "paragraph_organization": _band(
                stats["paragraph_length"]["mean_sentences"],
                [(2, "short paragraphs"), (4, "medium paragraphs")],
                "long paragraphs",
            ),
            "average_sentence_length": sentence_mean,
            "average_paragraph_words": stats["paragraph_length"]["mean_words"],
            "vocabulary_richness": stats["vocabulary"],
            "readability": stats["readability"],
            "word_count": words,
        },
        "target_audience": {
            "expertise_level": expertise,
            "reading_grade": grade,
            "demographics": ["general readers"] if grade <= 10 else ["professionals", "specialists"],
            "industry_focus": stats["top_keywords"][:3],
        },
        "content_type": {"primary_type": content_type, "purpose": purpose, "length": length},
        "recommended_settings": {
            "writing_tone": tone,
            "target_audience": expertise,
            "content_type": content_type,
            "creativity_level": creativity,
            "content_length": length,
            "target_sentence_length": round(sentence_mean),
        },
        "style_patterns": {
            "sentence_length": stats["sentence_length"],
            "paragraph_length": stats["paragraph_length"],
            "person": stats["person"],
            "passive_share": stats["passive_share"],
            "markers": markers,
            "common_sentence_starters": stats["common_sentence_starters"],
            "top_keywords": stats["top_keywords"],
        },
        "style_guidelines": {
            "guidelines": guidelines,
            "best_practices": [
                f"Open with a {'question' if markers['question_share'] >= 0.15 else 'clear statement'}.",
                "Use headings and short lists where the site does.",
            ],
            "avoid_elements": avoid,
            "content_strategy": f"{content_type.capitalize()}s that {purpose} {expertise} readers.",
            "profile_version": PROFILE_VERSION,
        },
    }
