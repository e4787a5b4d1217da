"""Text as every supported database can store it."""


def without_nul(value):
    """`value` with each NUL character made U+FFFD, in strings and inside lists and dicts (keys too).

    PostgreSQL's text and jsonb cannot hold NUL; legacy data read from SQLite or files can. Imports pass their
    input through this, so that every database stores (and a re-import compares) the same values.
    """
    if isinstance(value, str):
        return value.replace("\0", "\ufffd") if "\0" in value else value
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value
