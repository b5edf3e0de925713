"""Where notifications go, as configured: PARLEY_SMTP_URL, PARLEY_INBOUND_SMTP, PARLEY_SMS_WEBHOOK_URL.

Each is parsed once at start; a malformed value stops the server with a message naming the variable.
"""

from __future__ import annotations

import dataclasses
import email.utils
import re
from urllib.parse import parse_qs, unquote, urlsplit

SMTP_PORTS = {"smtp": 587, "smtps": 465}


class TargetError(ValueError):
    """A notification setting Parley cannot use."""


@dataclasses.dataclass(frozen=True)
class SmtpTarget:
    """An SMTP server to send through. `smtp://` upgrades with STARTTLS when the server offers it
    (and then sends credentials only over TLS); `smtps://` is TLS from the first byte."""

    host: str
    port: int
    use_tls: bool
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    verify_certificates: bool = True

    @property
    def display(self) -> str:
        return f"{'smtps' if self.use_tls else 'smtp'}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://user:pass@host:587`, `smtps://host:465`; `?verify=false` accepts self-signed certificates."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetError(f"PARLEY_SMTP_URL {_safe(url)!r} is not a URL: {error}") from None
    if parts.scheme not in SMTP_PORTS:
        raise TargetError(f"PARLEY_SMTP_URL must start with smtp:// or smtps://, got {_safe(url)!r}")
    if not parts.hostname:
        raise TargetError(f"PARLEY_SMTP_URL names no host: {_safe(url)!r} (like smtp://user:pass@mail.example.com:587)")
    if parts.path not in ("", "/"):
        raise TargetError(f"PARLEY_SMTP_URL takes no path, got {parts.path!r}")
    options = parse_qs(parts.query)
    unknown = set(options) - {"verify"}
    if unknown:
        raise TargetError(f"PARLEY_SMTP_URL: unknown option {sorted(unknown)[0]!r} (the only one is verify=false)")
    verify = options.get("verify", ["true"])[-1].lower()
    if verify not in ("true", "false"):
        raise TargetError(f"PARLEY_SMTP_URL: verify must be true or false, got {verify!r}")
    return SmtpTarget(
        host=parts.hostname,
        port=port or SMTP_PORTS[parts.scheme],
        use_tls=parts.scheme == "smtps",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        verify_certificates=verify == "true",
    )


def parse_listen_address(name: str, raw: str) -> tuple[str, int]:
    """`host:port` to listen on, e.g. 127.0.0.1:2525."""
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TargetError(f"{name} must be host:port, like 127.0.0.1:2525, got {raw!r}")
    return host.strip("[]"), int(port)


def parse_http_url(name: str, raw: str) -> str:
    """An http(s) URL; messages about it show only its origin (its path or query may hold a token)."""
    try:
        parts = urlsplit(raw)
        parts.port
    except ValueError as error:
        raise TargetError(f"{name} is not a URL ({error}): {safe_origin(raw)!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"{name} must be an http:// or https:// URL, got {safe_origin(raw)!r}")
    return raw


def safe_origin(url: str) -> str:
    """scheme://host[:port] of a URL, without credentials, path or query: what may be logged of it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(not a URL)"
    return f"{parts.scheme}://{host}{port}" if parts.scheme and host else "(not a URL)"


DOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")


def parse_domain(name: str, raw: str) -> str:
    domain = raw.strip().lower().rstrip(".")
    if not DOMAIN.fullmatch(domain):
        raise TargetError(f"{name} must be a domain name like replies.example.com, got {raw!r}")
    return domain


def parse_email_from(raw: str) -> str:
    """PARLEY_EMAIL_FROM: `notifications@example.com` or `Name <notifications@example.com>` -> the address
    (the display name in notification emails is the app's)."""
    _, address = email.utils.parseaddr(raw)
    local, at, domain = address.rpartition("@")
    if not at or not local or not DOMAIN.fullmatch(domain.lower()):
        raise TargetError(f"PARLEY_EMAIL_FROM must be an email address like notifications@example.com, got {raw!r}")
    return address


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        parts = urlsplit(url)
        if parts.password:
            return url.replace(f":{parts.password}@", ":***@")
    except ValueError:
        pass
    return url
