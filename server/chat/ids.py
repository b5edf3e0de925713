"""Identifiers, secrets and the clock."""

from __future__ import annotations

import secrets
import string
import time

_ALPHABET = string.ascii_letters + string.digits


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_message_id() -> str:
    return "msg_" + random_token(22)


def new_app_id() -> str:
    return "t" + random_token(7)


def new_secret_key() -> str:
    return "sk_" + secrets.token_urlsafe(24)
