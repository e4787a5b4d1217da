"""Webhook signatures in the style of Twilio's X-Twilio-Signature, with SHA-256.

The provider signs the full URL it posted to followed by every form field, sorted by name, each as
name + value (repeated fields once per value, in order), with HMAC-SHA256 under the shared secret, and
sends the base64 digest in the X-Cairn-Signature header.
"""

import base64
import hashlib
import hmac

HEADER = "X-Cairn-Signature"


def compute(*, secret: str, url: str, params: dict[str, list[str]]) -> str:
    payload = url + "".join(name + value for name in sorted(params) for value in params[name])
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_valid(*, secret: str, url: str, params: dict[str, list[str]], signature: str | None) -> bool:
    """Constant-time comparison; no secret configured means no request is valid."""
    if not secret or not signature:
        return False
    expected = compute(secret=secret, url=url, params=params)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
