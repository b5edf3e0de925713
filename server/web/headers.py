"""Security headers on every HTTP response, by kind of page.

- everything: `X-Content-Type-Options: nosniff` and a `Referrer-Policy`;
- the dashboard: never framed (`frame-ancestors 'none'`, `X-Frame-Options: DENY`), a strict CSP
  (scripts and styles from Parley's own files only), `Cache-Control: no-store` (its pages show
  secret keys) and no referrer;
- the REST API: `Cache-Control: no-store`;
- chat frames and the demo set their own CSP (frame-ancestors per app, a nonce for the demo's inline
  loader snippet; see embed.py and demo.py); a page of theirs without one gets `DEFAULT_CSP`.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
DEFAULT_CSP = "default-src 'self'; frame-ancestors 'self'; base-uri 'none'; object-src 'none'"


def frame_csp(ancestors: list[str]) -> str:
    """A chat frame: shown only inside the app's allowed origins (any, when none are set)."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:; connect-src 'self'; "
        f"frame-src *; frame-ancestors {' '.join(ancestors) or '*'}; form-action 'self'; base-uri 'none'; "
        "object-src 'none'"
    )


def demo_csp(nonce: str) -> str:
    """The demo, a host page like a site owner's: its inline loader snippet runs by nonce."""
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: https:; connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; "
        "base-uri 'none'; object-src 'none'"
    )


def _for(path: str) -> list[tuple[bytes, bytes]]:
    if path.startswith("/dashboard"):
        return [(b"content-security-policy", DASHBOARD_CSP.encode()), (b"x-frame-options", b"DENY"),
                (b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer")]
    if path.startswith("/v1/"):
        return [(b"cache-control", b"no-store"), (b"referrer-policy", b"no-referrer")]
    return [(b"content-security-policy", DEFAULT_CSP.encode()), (b"referrer-policy", b"strict-origin-when-cross-origin")]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _for(scope["path"])

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
