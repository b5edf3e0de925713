"""Apps (tenants): creation, settings, and authenticating REST calls with the secret key."""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import urlsplit

from server.chat import ids, lookup, ratelimits, serialize, webhook_events
from server.chat.context import ChatContext
from server.chat.errors import Conflict, InvalidInput, Unauthorized
from server.chat.notify_rules import MAX_DELAY_SECONDS
from server.db.models import App

BOOLEAN_SETTINGS = {
    "disallowUserSync": "disallow_user_sync",
    "disallowConversationSync": "disallow_conversation_sync",
    "identityVerification": "identity_verification",
    "looseVerifiedSync": "loose_verified_sync",
    "webhookAllowHttp": "webhook_allow_http",
}
INTEGER_SETTINGS = {"participantLimit": "participant_limit", "guestLimit": "guest_limit"}
MAX_LIMIT = 1_000_000
TEXT_SETTINGS = ("notificationDelay", "notificationLink", "webhookUrl", "webhookEvents", "allowedOrigins")
SETTING_KEYS = (*BOOLEAN_SETTINGS, *INTEGER_SETTINGS, *TEXT_SETTINGS, *ratelimits.RULES)


def parse_settings(pairs: dict[str, str]) -> dict[str, Any]:
    """`key=value` app settings as typed -> model fields; rate limits gather in `rate_limits`
    (an empty value puts a rate back to its default)."""
    changes: dict[str, Any] = {}
    for key, raw in pairs.items():
        if key in ratelimits.RULES:
            changes.setdefault("rate_limits", {})[key] = ratelimits.parse_rate(key, raw) if raw.strip() else None
        else:
            field, value = parse_setting(key, raw)
            changes[field] = value
    return changes


def parse_setting(key: str, raw: str) -> tuple[str, Any]:
    """One `key=value` app setting as typed on the command line -> (model field, value)."""
    if key in BOOLEAN_SETTINGS:
        value = raw.strip().lower()
        if value not in ("true", "false"):
            raise InvalidInput(f"{key} must be true or false, got {raw!r}")
        return BOOLEAN_SETTINGS[key], value == "true"
    if key in INTEGER_SETTINGS:
        try:
            number = int(raw)
        except ValueError:
            raise InvalidInput(f"{key} must be an integer, got {raw!r}") from None
        if not 0 <= number <= MAX_LIMIT:
            raise InvalidInput(f"{key} must be between 0 and {MAX_LIMIT}, got {number}")
        return INTEGER_SETTINGS[key], number
    if key == "allowedOrigins":
        return "allowed_origins", ",".join(_parse_origins(raw))
    if key == "notificationDelay":
        return "notification_delay", _parse_delay(raw)
    if key == "notificationLink":
        return "notification_link", _parse_link(raw)
    if key == "webhookUrl":
        return "webhook_url", _parse_webhook_url(raw)
    if key == "webhookEvents":
        return "webhook_events", serialize.dumps(_parse_webhook_events(raw))
    raise InvalidInput(f"unknown setting {key!r}; settings are: {', '.join(SETTING_KEYS)}")


def _parse_origins(raw: str) -> list[str]:
    origins = [o.strip().rstrip("/").lower() for o in raw.split(",") if o.strip()]  # browsers send lowercase
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or "/" in origin.split("://", 1)[1]:
            raise InvalidInput(f"allowedOrigins: {origin!r} is not an origin like https://example.com")
    return origins


def _parse_delay(raw: str) -> int:
    try:
        seconds = int(raw)
    except ValueError:
        raise InvalidInput(f"notificationDelay must be a whole number of seconds, got {raw!r}") from None
    if not 0 <= seconds <= MAX_DELAY_SECONDS:
        raise InvalidInput(f"notificationDelay must be between 0 and {MAX_DELAY_SECONDS} seconds, got {seconds}")
    return seconds


def _parse_link(raw: str) -> str | None:
    link = raw.strip()
    if not link:
        return None
    parts = urlsplit(link.replace("{conversationId}", "x"))
    if parts.scheme not in ("http", "https") or not parts.netloc or len(link) > 2000:
        raise InvalidInput(f"notificationLink must be an http:// or https:// URL, got {raw[:200]!r}")
    return link


def _parse_webhook_url(raw: str) -> str | None:
    url = raw.strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or len(url) > 2000:
        raise InvalidInput(f"webhookUrl must be an https:// URL (http:// with webhookAllowHttp), got {raw[:200]!r}")
    return url


def _parse_webhook_events(raw: str) -> list[str]:
    """Comma-separated event types, or `*` for every one."""
    if raw.strip() == "*":
        return list(webhook_events.TYPES)
    chosen = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in webhook_events.TYPES]
    if unknown:
        raise InvalidInput(f"webhookEvents: unknown event {unknown[0]!r}; events are: {', '.join(webhook_events.TYPES)}")
    return [t for t in webhook_events.TYPES if t in chosen]


APP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def create_app(ctx: ChatContext, name: str, app_id: str | None = None) -> dict[str, Any]:
    if not name.strip():
        raise InvalidInput("an app needs a name")
    if app_id is not None and not APP_ID.fullmatch(app_id):
        raise InvalidInput("an appId is 1 to 64 letters, digits, '-' or '_' (it appears in every URL of the app)")
    return await ctx.write(_create_app, name.strip(), app_id)


def _create_app(name: str, app_id: str | None) -> tuple[dict[str, Any], list]:
    app_id = app_id or ids.new_app_id()
    if App.get_or_none(App.app_id == app_id) is not None:
        raise Conflict(f"an app with id {app_id!r} already exists", code="APP_EXISTS")
    app = App.create(app_id=app_id, name=name, secret_key=ids.new_secret_key(), created_at=ids.now_ms())
    return serialize.app_json(app, with_secret=True), []


async def get_app(ctx: ChatContext, app_id: str) -> App:
    return await ctx.db.read(lookup.find_app, app_id)


async def list_apps(ctx: ChatContext) -> list[dict[str, Any]]:
    return await ctx.db.read(lambda: [serialize.app_json(a) for a in App.select().order_by(App.id)])


async def update_settings(ctx: ChatContext, app_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    updated = await ctx.write(_update_settings, app_id, changes)
    ctx.forget_app(app_id)
    webhook_events.forget(app_id)
    return updated


def _update_settings(app_id: str, changes: dict[str, Any]) -> tuple[dict[str, Any], list]:
    app = lookup.find_app(app_id)
    for field, value in changes.items():
        if field == "rate_limits":
            merged = {**ratelimits.parse_overrides(app.rate_limits), **value}
            value = serialize.dumps({k: v for k, v in sorted(merged.items()) if v is not None})
        setattr(app, field, value)
    app.save()
    return serialize.app_json(app), []


async def rotate_secret(ctx: ChatContext, app_id: str) -> dict[str, Any]:
    """A new secret key; the old one stops working at once (REST, signatures, tokens)."""
    rotated = await ctx.write(_rotate_secret, app_id)
    ctx.forget_app(app_id)
    return rotated


def _rotate_secret(app_id: str) -> tuple[dict[str, Any], list]:
    app = lookup.find_app(app_id)
    app.secret_key = ids.new_secret_key()
    app.save(only=[App.secret_key])
    return serialize.app_json(app, with_secret=True), []


def parse_form_settings(form: dict[str, str]) -> dict[str, Any]:
    """The dashboard's Settings form: unticked checkboxes are absent, so every boolean is set."""
    pairs = {key: "true" if form.get(key) == "on" else "false" for key in BOOLEAN_SETTINGS}
    fields = (*INTEGER_SETTINGS, "notificationDelay", "notificationLink", "allowedOrigins", *ratelimits.RULES)
    pairs.update({key: form.get(key, "") for key in fields})
    pairs.pop("webhookAllowHttp", None)  # the Webhooks tab has its own form
    return parse_settings(pairs)


async def authenticate(ctx: ChatContext, app_id: str, authorization: str | None) -> App:
    """The app a REST call names, if it carries that app's secret key as a Bearer token."""
    app = await get_app(ctx, app_id)
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send the app's secret key as 'Authorization: Bearer <secret key>'")
    if not hmac.compare_digest(token.strip().encode(), app.secret_key.encode()):
        raise Unauthorized("the secret key does not match this app", code="INVALID_SECRET_KEY")
    return app
