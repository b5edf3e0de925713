"""The dashboard's administrator: one password (argon2 hash), and the secret that signs its cookie."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.chat.context import ChatContext
from server.chat.errors import InvalidInput
from server.db.models import Setting

PASSWORD_HASH = "admin_password_hash"
COOKIE_SECRET = "dashboard_cookie_secret"
SESSION_GENERATION = "dashboard_session_generation"
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
hasher = PasswordHasher()


def check_new_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the admin password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"the admin password must be at most {MAX_PASSWORD_LENGTH} characters")
    return password


async def set_password(ctx: ChatContext, password: str) -> None:
    # argon2 is slow on purpose: hash in a worker thread, not on the event loop or the writer thread
    digest = await asyncio.to_thread(hasher.hash, check_new_password(password))
    await ctx.db.write(_store, PASSWORD_HASH, digest)


def _store(key: str, value: str) -> None:
    Setting.insert(key=key, value=value).on_conflict(conflict_target=[Setting.key], update={Setting.value: value}).execute()


async def has_password(ctx: ChatContext) -> bool:
    return await ctx.db.read(lambda: Setting.get_or_none(Setting.key == PASSWORD_HASH) is not None)


async def verify_password(ctx: ChatContext, password: str) -> bool:
    row = await ctx.db.read(lambda: Setting.get_or_none(Setting.key == PASSWORD_HASH))
    if row is None or not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return await asyncio.to_thread(hasher.verify, row.value, password)
    except (VerificationError, InvalidHashError):
        return False


async def cookie_secret(ctx: ChatContext) -> str:
    return await installation_secret(ctx, COOKIE_SECRET)


async def installation_secret(ctx: ChatContext, key: str) -> str:
    """Created once per installation, so what it signs survives restarts and every process agrees."""
    return await ctx.db.write(_installation_secret, key)


def _installation_secret(key: str) -> str:
    row = Setting.get_or_none(Setting.key == key)
    if row is None:
        row = Setting.create(key=key, value=secrets.token_urlsafe(48))
    return row.value


async def session_generation(ctx: ChatContext) -> str:
    """Which dashboard sessions count: those signed in since the last sign-out (any browser's)."""
    row = await ctx.db.read(lambda: Setting.get_or_none(Setting.key == SESSION_GENERATION))
    return row.value if row is not None else "0"


async def end_sessions(ctx: ChatContext) -> None:
    """Signing out ends every dashboard session on the server side, not only the cookie in this browser."""
    await ctx.db.write(_store, SESSION_GENERATION, secrets.token_urlsafe(12))
