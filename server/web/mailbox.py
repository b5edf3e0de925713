"""The dashboard's view of notifications: where they go from this server, and the development mailbox's
preview of an email (a sandboxed srcdoc frame, under a policy that admits exactly that email's inline styles)."""

from __future__ import annotations

import base64
import datetime
import hashlib
from html.parser import HTMLParser

from server.config import Settings
from server.notify.targets import safe_origin
from server.web.headers import DASHBOARD_CSP


def delivery(settings: Settings) -> dict[str, str | None]:
    """Where notifications go from this server, for the Notifications tab. The SMS gateway shows only its
    origin: its path or query may hold a token."""
    inbound = settings.inbound_smtp
    return {
        "smtp": settings.smtp.display if settings.smtp else None,
        "sms": safe_origin(settings.sms_webhook_url) if settings.sms_webhook_url else None,
        "replies": f"{inbound[0]}:{inbound[1]}" if inbound else None,
        "reply_domain": settings.mail_domain,
    }


def preview_csp(html: str) -> str:
    """The dashboard's policy, letting through exactly the email's own inline styles (by hash): a srcdoc
    frame inherits the page's policy, and under `style-src 'self'` the email would show unstyled."""
    collector = _InlineStyles()
    collector.feed(html)
    collector.close()
    digests = (base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() for style in sorted(collector.found))
    allowed = " ".join(f"'sha256-{digest}'" for digest in digests)
    if not allowed:
        return DASHBOARD_CSP
    return DASHBOARD_CSP.replace("style-src 'self';", f"style-src 'self' 'unsafe-hashes' {allowed};", 1)


class _InlineStyles(HTMLParser):
    """Every `style="..."` value and `<style>` element of a document, as the browser hashes them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.update(value for name, value in attrs if name == "style" and value)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and data:
            self.found.add(data)


def utc(ms: int | None) -> str:
    """A time in ms since the epoch as `2026-12-01 15:21:35` (UTC, which the page says)."""
    if not ms:
        return ""
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
