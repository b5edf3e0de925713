"""Settings: the one place that reads the environment.

Everything else receives a `Settings` object (see `create_app(settings)`), so tests build
their own without touching `os.environ`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from server.notify.targets import (
    SmtpTarget,
    TargetError,
    parse_domain,
    parse_email_from,
    parse_http_url,
    parse_listen_address,
    parse_smtp_url,
)
from server.proxies import Network, parse_networks

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
SQLITE_SYNCHRONOUS = ("normal", "full")


class SettingsError(ValueError):
    """A PARLEY_* variable holds a value Parley cannot use."""


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///data/parley.db"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    redis_url: str | None = None
    public_url: str | None = None
    admin_password: str | None = dataclasses.field(default=None, repr=False)
    sqlite_synchronous: str = "normal"
    trusted_proxies: tuple[Network, ...] = ()
    connections_per_address: int = 1_000
    packets_per_second: int = 50
    ping_interval: int = 25
    ping_timeout: int = 20
    ws_backlog_bytes: int = 256 * 1024
    ws_backlog_total_bytes: int = 256 * 1024 * 1024
    node_lease_seconds: int = 15  # with Redis: a dead process's guest slots and presence lapse this long after it
    smtp: SmtpTarget | None = None  # None: emails go to the development mailbox (the dashboard shows them)
    email_from: str | None = None  # the From address; default notifications@<reply domain>
    inbound_smtp: tuple[str, int] | None = None  # where replies by email are received; None: not at all
    reply_domain: str | None = None  # the domain of reply addresses; default the public URL's host
    sms_webhook_url: str | None = None
    notification_retry_seconds: float = 30.0  # the first retry after a failed delivery; doubling after
    webhook_allow_private: bool = False  # webhooks to loopback/private addresses (tests, a receiver on this machine)
    webhook_retry_hours: float = 24.0  # how long an undelivered webhook event is retried
    webhook_retry_seconds: float = 10.0  # the first retry of a webhook event; doubling (with jitter) after

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            database_url=env.get("PARLEY_DATABASE_URL") or defaults.database_url,
            host=env.get("PARLEY_HOST") or defaults.host,
            port=_integer(env, "PARLEY_PORT", defaults.port, 0, 65535),
            log_level=_log_level(env.get("PARLEY_LOG_LEVEL"), defaults.log_level),
            redis_url=env.get("PARLEY_REDIS_URL") or None,
            public_url=(env.get("PARLEY_PUBLIC_URL") or "").rstrip("/") or None,
            admin_password=_admin_password(env.get("PARLEY_ADMIN_PASSWORD")),
            sqlite_synchronous=_choice(env, "PARLEY_SQLITE_SYNCHRONOUS", SQLITE_SYNCHRONOUS, defaults.sqlite_synchronous),
            trusted_proxies=_networks(env, "PARLEY_TRUSTED_PROXIES"),
            connections_per_address=_positive(env, "PARLEY_CONNECTIONS_PER_ADDRESS", defaults.connections_per_address),
            packets_per_second=_positive(env, "PARLEY_PACKETS_PER_SECOND", defaults.packets_per_second),
            ping_interval=_positive(env, "PARLEY_PING_INTERVAL", defaults.ping_interval),
            ping_timeout=_positive(env, "PARLEY_PING_TIMEOUT", defaults.ping_timeout),
            ws_backlog_bytes=_positive(env, "PARLEY_WS_BACKLOG_BYTES", defaults.ws_backlog_bytes),
            ws_backlog_total_bytes=_positive(env, "PARLEY_WS_BACKLOG_TOTAL_BYTES", defaults.ws_backlog_total_bytes),
            node_lease_seconds=_integer(env, "PARLEY_NODE_LEASE_SECONDS", defaults.node_lease_seconds, 1, 300),
            **_notification_settings(env),
            webhook_allow_private=_choice(env, "PARLEY_WEBHOOK_ALLOW_PRIVATE", ("0", "1"), "0") == "1",
            webhook_retry_hours=float(_integer(env, "PARLEY_WEBHOOK_RETRY_HOURS", 24, 1, 168)),
            webhook_retry_seconds=float(_integer(env, "PARLEY_WEBHOOK_RETRY_SECONDS", 10, 1, 3600)),
        )

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def mail_domain(self) -> str:
        """The domain reply addresses (and the default From) are on."""
        if self.reply_domain:
            return self.reply_domain
        host = self.base_url.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
        return "localhost" if host in ("127.0.0.1", "0.0.0.0", "[::1]", "") else host

    @property
    def base_url(self) -> str:
        """The URL people reach this server at (for printed links and the embed snippet)."""
        return self.public_url or f"http://{self.host}:{self.port}"


def _notification_settings(env: Mapping[str, str]) -> dict[str, object]:
    try:
        smtp, inbound, sms = env.get("PARLEY_SMTP_URL"), env.get("PARLEY_INBOUND_SMTP"), env.get("PARLEY_SMS_WEBHOOK_URL")
        retry = _integer(env, "PARLEY_NOTIFICATION_RETRY_SECONDS", 30, 1, 3600)
        return {
            "smtp": parse_smtp_url(smtp) if smtp else None,
            "email_from": parse_email_from(env["PARLEY_EMAIL_FROM"]) if env.get("PARLEY_EMAIL_FROM") else None,
            "inbound_smtp": parse_listen_address("PARLEY_INBOUND_SMTP", inbound) if inbound else None,
            "reply_domain": parse_domain("PARLEY_REPLY_DOMAIN", env["PARLEY_REPLY_DOMAIN"]) if env.get("PARLEY_REPLY_DOMAIN") else None,
            "sms_webhook_url": parse_http_url("PARLEY_SMS_WEBHOOK_URL", sms) if sms else None,
            "notification_retry_seconds": float(retry),
        }
    except TargetError as error:
        raise SettingsError(str(error)) from None


def _admin_password(raw: str | None) -> str | None:
    if raw and len(raw) < 10:
        raise SettingsError("PARLEY_ADMIN_PASSWORD must be at least 10 characters")
    return raw or None


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = env.get(name)
    if not raw:
        return default
    if raw.lower() not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw.lower()


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    return _integer(env, name, default, 1, 2**40)


def _networks(env: Mapping[str, str], name: str) -> tuple[Network, ...]:
    try:
        return parse_networks(env.get(name) or "")
    except ValueError as error:
        raise SettingsError(f"{name}: {error}") from None


def _log_level(raw: str | None, default: str) -> str:
    if not raw:
        return default
    level = raw.lower()
    if level not in LOG_LEVELS:
        raise SettingsError(f"PARLEY_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return level
