"""The dashboard's session: a signed cookie, a CSRF token on every form, and a login rate limit."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from server.chat import admin
from server.chat.errors import ChatError
from server.chat.ratelimits import SIGN_IN_FAILURES_PER_ADDRESS

COOKIE = "parley_dashboard"
MAX_AGE_SECONDS = 8 * 3600


class CsrfRefused(ChatError):
    status, code = 403, "CSRF_REFUSED"


class TooManyAttempts(ChatError):
    status, code = 429, "TOO_MANY_LOGIN_ATTEMPTS"


async def serializer(request: Request) -> URLSafeTimedSerializer:
    state = request.app.state
    if getattr(state, "dashboard_serializer", None) is None:
        secret = await admin.cookie_secret(state.chat)
        state.dashboard_serializer = URLSafeTimedSerializer(secret, salt="parley-dashboard")
    return state.dashboard_serializer


async def read_session(request: Request) -> dict[str, Any]:
    """The signed cookie's content, or a fresh anonymous session (with its own CSRF token). A signed-in
    session counts only while its generation is the server's: signing out moves the generation on."""
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = (await serializer(request)).loads(raw, max_age=MAX_AGE_SECONDS)
            if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                if data.get("admin") and data.get("generation") != await admin.session_generation(request.app.state.chat):
                    data = {"admin": False, "csrf": data["csrf"]}
                return data
        except BadSignature:
            pass
    return {"admin": False, "csrf": secrets.token_urlsafe(32)}


async def write_session(request: Request, response: Response, session: dict[str, Any]) -> None:
    value = (await serializer(request)).dumps(session)
    response.set_cookie(
        COOKIE, value, max_age=MAX_AGE_SECONDS, path="/dashboard", httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )


def check_csrf(session: dict[str, Any], form: Any) -> None:
    sent = form.get("csrf") if form is not None else None
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session["csrf"]):
        raise CsrfRefused("the form's CSRF token is missing or wrong: reload the page and try again")


class SignInGuard:
    """Failed sign-ins: per client address a hard stop (5 in 5 minutes, counted by the shared rate
    limiter), and for the one admin account a delay that grows with consecutive failures from
    anywhere (up to MAX_DELAY_SECONDS) instead of a lock, so that strangers can slow a guessing
    campaign down but never lock the real admin out."""

    FREE_FAILURES = 5
    MAX_DELAY_SECONDS = 8.0

    def __init__(self) -> None:
        self.consecutive_failures = 0

    async def before_attempt(self, chat: Any, address: str) -> None:
        retry_after = await chat.limits.test_item(SIGN_IN_FAILURES_PER_ADDRESS, ("signIn", address))
        if retry_after:
            raise TooManyAttempts(f"too many failed sign-ins from this address: try again in {retry_after} s")
        await asyncio.sleep(self.delay())

    def delay(self) -> float:
        extra = self.consecutive_failures - self.FREE_FAILURES
        return 0.0 if extra < 0 else min(0.25 * 2**extra, self.MAX_DELAY_SECONDS)

    async def failed(self, chat: Any, address: str) -> None:
        self.consecutive_failures += 1
        await chat.limits.strategy.hit(SIGN_IN_FAILURES_PER_ADDRESS, "signIn", address)

    async def succeeded(self, chat: Any, address: str) -> None:
        self.consecutive_failures = 0
        await chat.limits.clear(SIGN_IN_FAILURES_PER_ADDRESS, ("signIn", address))
