"""Analyze a transcript: duration, words, speaking rate, keywords, sentiment (VADER), questions asked."""

import re
from collections import Counter
from functools import cache

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")  # words, with apostrophes inside (don't, it's)
# A small English stop list: keywords are the most frequent words not in it.
STOP_WORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here
    hers him his how i if in into is it its just me more most my no nor not now of off on once only or other
    our ours out over own same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who whom why will with
    would you your yours yeah okay ok oh um uh like well also get got going gonna speaker one two three four five
    six seven eight nine ten""".split()  # noqa: SIM905
)
KEYWORDS = 5


def analyze(transcript: str, *, duration: float | None = None) -> dict:
    words = WORD.findall(transcript or "")
    lowered = [w.lower().strip("'") for w in words]
    counts = Counter(w for w in lowered if len(w) > 2 and w not in STOP_WORDS)
    minutes = duration / 60 if duration else None
    return {
        "duration_seconds": round(duration, 2) if duration is not None else None,
        "word_count": len(words),
        "words_per_minute": round(len(words) / minutes, 1) if minutes else None,
        "keywords": [word for word, _ in counts.most_common(KEYWORDS)],
        "sentiment": sentiment(transcript),
        "questions": questions(transcript),
    }


def sentiment(text: str) -> dict:
    """VADER's compound score in [-1, 1] and a label (its documented ±0.05 thresholds)."""
    scores = _vader().polarity_scores(text or "")
    compound = scores["compound"]
    label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
    return {"label": label, "compound": compound}


@cache
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def questions(text: str) -> list[str]:
    """Sentences ending with "?"; a transcript without punctuation (PocketSphinx) counts none."""
    sentences = re.split(r"(?<=[.!?])\s+|\n+", text or "")
    return [s.strip() for s in sentences if s.strip().endswith("?")]
