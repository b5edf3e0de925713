"""Webhook signatures as TalkJS makes them, so a receiver written for TalkJS verifies Parley's unchanged:
`X-TalkJS-Signature` is the upper-case hex HMAC-SHA256 of `timestamp + "." + body`, keyed with the app's
secret key, and `X-TalkJS-Timestamp` the timestamp (ms since the epoch). The same under X-Parley-*."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret_key: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest().upper()


def headers(secret_key: str, timestamp: str, body: bytes) -> dict[str, str]:
    signed = signature(secret_key, timestamp, body)
    return {
        "Content-Type": "application/json",
        "X-TalkJS-Timestamp": timestamp,
        "X-TalkJS-Signature": signed,
        "X-Parley-Timestamp": timestamp,
        "X-Parley-Signature": signed,
    }


def verify(secret_key: str, timestamp: str, body: bytes, signed: str) -> bool:
    """What a receiver does (docs/webhooks.md shows the same in Python and Node)."""
    return hmac.compare_digest(signature(secret_key, timestamp, body), signed.upper())
