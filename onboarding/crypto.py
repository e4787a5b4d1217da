"""The Fernet key ring that encrypts stored secrets (API keys).

`CAIRN_FERNET_KEYS` lists the keys newest first: the first encrypts, every key decrypts, so a key is
rotated by putting a new one in front, re-encrypting (`manage.py heal --only onboarding.api_key_not_primary`)
and then dropping the old one. With no keys configured (development, tests) one key is derived from
SECRET_KEY, so that a fresh checkout works; production sets its own keys (docs/onboarding.md).
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

__all__ = ["InvalidToken", "decrypt", "encrypt", "is_primary", "key_ring", "mask", "rotate"]


def _keys() -> list[str]:
    keys = list(settings.CAIRN_FERNET_KEYS)
    if keys:
        return keys
    derived = hashlib.sha256(b"cairn.onboarding.fernet:" + settings.SECRET_KEY.encode()).digest()
    return [base64.urlsafe_b64encode(derived).decode()]


def key_ring() -> MultiFernet:
    # Built per call: cheap (a few microseconds), and settings overrides in tests take effect at once.
    return MultiFernet([Fernet(key) for key in _keys()])


@sensitive_variables()
def encrypt(plaintext: str) -> str:
    return key_ring().encrypt(plaintext.encode()).decode()


@sensitive_variables()
def decrypt(token: str) -> str:
    """The plaintext; raises InvalidToken when no key of the ring opens it."""
    return key_ring().decrypt(token.encode()).decode()


def is_primary(token: str) -> bool:
    """Whether the newest key opens the token (else a rotation would re-encrypt it)."""
    try:
        Fernet(_keys()[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


@sensitive_variables()
def rotate(token: str) -> str:
    """The same secret encrypted with the newest key; raises InvalidToken when no key opens it."""
    return key_ring().rotate(token.encode()).decode()


MASK_MIN_LENGTH = 12


@sensitive_variables()
def mask(secret: str) -> str:
    """`AIza…9x2Q`: the first and last four characters. A short secret would be shown whole that way, so
    it is masked completely."""
    if len(secret) < MASK_MIN_LENGTH:
        return "…"
    return secret[:4] + "…" + secret[-4:]
