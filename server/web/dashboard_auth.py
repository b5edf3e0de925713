"""The dashboard's session: a signed cookie, a CSRF token on every form, and a login rate limit."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from server.chat import admin
from server.chat.errors import ChatError

COOKIE = "parley_dashboard"
MAX_AGE_SECONDS = 8 * 3600
LOGIN_FAILURES_ALLOWED = 5
LOGIN_WINDOW_SECONDS = 300


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
    """The signed cookie's content, or a fresh anonymous session (with its own CSRF token)."""
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = (await serializer(request)).loads(raw, max_age=MAX_AGE_SECONDS)
            if isinstance(data, dict) and isinstance(data.get("csrf"), str):
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


class LoginLimiter:
    """At most LOGIN_FAILURES_ALLOWED failed logins per client address per window."""

    def __init__(self) -> None:
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client, deque())
        while failures and failures[0] < time.monotonic() - LOGIN_WINDOW_SECONDS:
            failures.popleft()
        if not failures:
            self._failures.pop(client, None)  # forget addresses with nothing recent
        return failures

    def attempt(self, client: str) -> None:
        """Count an attempt before the (slow) password check, so parallel attempts cannot slip past."""
        failures = self._recent(client)
        if len(failures) >= LOGIN_FAILURES_ALLOWED:
            raise TooManyAttempts(f"too many failed logins: wait {LOGIN_WINDOW_SECONDS // 60} minutes and try again")
        failures.append(time.monotonic())
        self._failures[client] = failures

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
