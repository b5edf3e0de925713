"""The dashboard's Webhooks tab: the app's webhook settings, a test event, the delivery log and redelivery.

Plain handlers taking (request, session); server.web.dashboard wraps them in `signed_in` (sign-in and
CSRF) and routes them, so this module depends on nothing of the dashboard's."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.chat import apps, webhook_events, webhook_outbox
from server.chat.context import ChatContext
from server.chat.errors import InvalidInput, NotFound
from server.db.models import App

EVENT_ROW_ID = re.compile(r"[0-9]{1,18}")  # an outbox row's id (fits SQLite's and PostgreSQL's integers)
NOTICES = (("webhook-saved", "Webhook settings saved."),
           ("test-queued", "Test event queued: it appears in the log below, and at your URL within seconds."),
           ("redelivered", "Event queued to be sent again."))


async def tab_context(ctx: ChatContext, app: App) -> dict[str, Any]:
    return {"event_types": webhook_events.TYPES, "deliveries": await webhook_outbox.log(ctx, app)}


async def save(request: Request, session: dict[str, Any]) -> Response:
    app_id = request.path_params["app_id"]
    form = await request.form()
    changes = apps.parse_settings({
        "webhookUrl": str(form.get("webhookUrl", "")),
        "webhookEvents": ",".join(str(kind) for kind in form.getlist("webhookEvents")),
        "webhookAllowHttp": "true" if form.get("webhookAllowHttp") == "on" else "false",
    })
    await apps.update_settings(request.app.state.chat, app_id, changes)
    return _back(app_id, "webhook-saved")


async def send_test(request: Request, session: dict[str, Any]) -> Response:
    chat = request.app.state.chat
    app = await apps.get_app(chat, request.path_params["app_id"])
    if not app.webhook_url:
        raise InvalidInput("set a webhook URL and save it first: a test event needs somewhere to go")
    await chat.db.write(webhook_events.record_test, app.app_id)
    return _back(app.app_id, "test-queued")


async def redeliver(request: Request, session: dict[str, Any]) -> Response:
    chat = request.app.state.chat
    app = await apps.get_app(chat, request.path_params["app_id"])
    raw = str((await request.form()).get("id", ""))
    if not EVENT_ROW_ID.fullmatch(raw) or not await chat.db.write(webhook_outbox.redeliver, app, int(raw)):
        raise NotFound(f"this app has no delivered or failed webhook event {raw[:40]!r} to send again")
    return _back(app.app_id, "redelivered")


def _back(app_id: str, notice: str) -> Response:
    return RedirectResponse(f"/dashboard/apps/{app_id}?tab=webhooks&{notice}=1", status_code=303)
