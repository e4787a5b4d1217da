"""How Cairn turns a name from outside into a user.

`username_key()` is the one canonical form of a name: two names are the same person exactly when their keys
are equal. It is stored in `User.username_key` under a plain unique constraint, so the database, not a
Python check, keeps one user per key. `resolve_user()` is the one way any code finds a user by a name or an
external id.
"""

import unicodedata

# Bump when username_key() changes; `manage.py doctor` then reports every user whose stored key is stale.
KEY_VERSION = 1


def _key_step(name: str) -> str:
    # The rule from legacy/thywill.md R3, in its order: NFKC, casefold, drop Cf (zero-width and bidi
    # characters, soft hyphen, BOM), collapse whitespace runs to one space, strip.
    folded = unicodedata.normalize("NFKC", name).casefold()
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


def username_key(name: str) -> str:
    """The canonical key of a name: `Max`, `MAX `, `Max\u200b` and `Ｍａｘ` all give `max`."""
    key = _key_step(name)
    # One pass is not always a fixed point: casefolding some Greek letters with combining marks yields
    # a sequence that NFKC composes differently (e.g. "\u1f96\u0301"). Repeat until stable, so that
    # a key is always its own key; for every ordinary name the first pass already is.
    for _ in range(8):
        again = _key_step(key)
        if again == key:
            return key
        key = again
    return key


def display_name(name: str) -> str:
    """The form a name is stored and shown in: whitespace runs collapsed and stripped, nothing else.

    This is `display()` of legacy/thywill.md R3: case, accents and their encoding are kept, so an imported
    name is exactly what the archive wrote. Sign-up additionally composes a new name to NFC.
    """
    return " ".join(name.split())


def without_spaces(key: str) -> str:
    """A key with every space removed: `grace lee` and `gracelee` are possible duplicates for staff."""
    return key.replace(" ", "")


def resolve_user(name_or_external_id: str):
    """Return the user an outside reference names, or None.

    An exact `external_id` wins (ids are unambiguous); otherwise the name is matched by its key. A user merged
    into another resolves to the one it was merged into. This is the only way code should turn a name from a
    file, a form or an API into a User.
    """
    from accounts.models import User

    if not name_or_external_id or not name_or_external_id.strip():
        return None
    user = User.objects.filter(external_id=name_or_external_id).first()
    if user is None:
        key = username_key(name_or_external_id)
        user = User.objects.filter(username_key=key).first() if key else None
    return _survivor(user)


def _survivor(user):
    """Follow merge tombstones (`merged_into`) to the account that holds the person now."""
    seen = set()
    while user is not None and user.merged_into_id is not None and user.pk not in seen:
        seen.add(user.pk)
        user = user.merged_into
    return user
