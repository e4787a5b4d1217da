"""`url_key`: the one normalized form of a website URL (legacy/alwrity.md B5).

The wizard, the API, the ALwrity import and the integrity checks all call this function, so "the same site"
means the same thing everywhere; `WebsiteAnalysis` is unique on (session, url_key). If the rule ever
changes, `manage.py doctor` finds the analyses whose stored key is stale (onboarding.stale_url_key) or that
now collide (onboarding.duplicate_analysis).
"""


def url_key(raw: str) -> str:
    """Scheme added (https) or repaired (`https:/x`), scheme and host lower-cased, trailing slashes stripped.

    Not normalized: http vs https, a leading `www.`, the path's case, the query, the fragment.
    """
    s = raw.strip()
    low = s.lower()
    if low.startswith("https:/") and not low.startswith("https://"):
        s = "https://" + s[7:]
    elif low.startswith("http:/") and not low.startswith("http://"):
        s = "http://" + s[6:]
    low = s.lower()
    if not low.startswith(("http://", "https://")):
        s = "https://" + s
    scheme, rest = s.split("://", 1)
    rest = rest.lstrip("/")
    cut = [i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i != -1]
    i = min(cut) if cut else len(rest)
    return (scheme.lower() + "://" + rest[:i].lower() + rest[i:]).rstrip("/")
