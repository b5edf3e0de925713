"""The dashboard for site owners at /dashboard: apps, security settings, limits, browsing, live figures,
notifications, webhooks (server.web.dashboard_webhooks) (and the development mailbox: the emails kept when no SMTP server is configured)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.chat import admin, apps, browse, outbox, ratelimits, serialize
from server.chat.errors import ChatError, InvalidInput, NotFound
from server.web import dashboard_webhooks, mailbox
from server.web.demo import base_url, loader_snippet
from server.web.embed import templates
from server.web.dashboard_auth import SignInGuard, check_csrf, read_session, write_session

TABS = ("overview", "settings", "embed", "live", "notifications", "webhooks")
RECENT_NOTIFICATIONS = 50
NOTIFICATION_ID = re.compile(r"[0-9]{1,18}")  # an outbox row's id (fits SQLite's and PostgreSQL's integers)
guard = SignInGuard()
Handler = Callable[[Request, dict[str, Any]], Awaitable[Response]]


async def render(request: Request, session: dict[str, Any], name: str, context: dict[str, Any], status: int = 200):
    context = {"csrf": session["csrf"], "signed_in": session.get("admin", False), **context}
    response = templates.TemplateResponse(request, f"dashboard/{name}", context, status_code=status)
    await write_session(request, response, session)
    return response


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Every dashboard page and action needs a signed-in admin; actions also a valid CSRF token."""

    async def endpoint(request: Request) -> Response:
        session = await read_session(request)
        if not session.get("admin"):
            return RedirectResponse("/dashboard/login", status_code=303)
        try:
            if request.method == "POST":
                check_csrf(session, await request.form())
            return await handler(request, session)
        except ChatError as error:
            context = {"code": error.code, "message": error.message}
            return await render(request, session, "error.html", context, status=error.status)

    endpoint.__name__ = handler.__name__
    return endpoint


async def login_page(request: Request) -> Response:
    session = await read_session(request)
    if session.get("admin"):
        return RedirectResponse("/dashboard", status_code=303)
    return await render(request, session, "login.html", {"has_password": await admin.has_password(request.app.state.chat)})


async def login(request: Request) -> Response:
    session = await read_session(request)
    address = request.app.state.client_address(request.scope)
    form = await request.form()
    chat = request.app.state.chat
    try:
        check_csrf(session, form)
        await guard.before_attempt(chat, address)
    except ChatError as error:
        context = {"error": error.message, "has_password": await admin.has_password(chat)}
        return await render(request, session, "login.html", context, status=error.status)
    if not await admin.verify_password(chat, str(form.get("password", ""))):
        await guard.failed(chat, address)
        context = {"error": "Wrong password.", "has_password": await admin.has_password(chat)}
        return await render(request, session, "login.html", context, status=401)
    await guard.succeeded(chat, address)
    response = RedirectResponse("/dashboard", status_code=303)
    generation = await admin.session_generation(chat)
    signed_in_session = {"admin": True, "csrf": secrets.token_urlsafe(32), "generation": generation}  # a new token once in
    await write_session(request, response, signed_in_session)
    return response


@signed_in
async def logout(request: Request, session: dict[str, Any]) -> Response:
    await admin.end_sessions(request.app.state.chat)
    response = RedirectResponse("/dashboard/login", status_code=303)
    await write_session(request, response, {"admin": False, "csrf": session["csrf"]})
    return response


@signed_in
async def apps_page(request: Request, session: dict[str, Any]) -> Response:
    return await render(request, session, "apps.html", {"apps": await apps.list_apps(request.app.state.chat)})


@signed_in
async def create_app(request: Request, session: dict[str, Any]) -> Response:
    form = await request.form()
    created = await apps.create_app(request.app.state.chat, str(form.get("name", "")))
    return RedirectResponse(f"/dashboard/apps/{created['appId']}?created=1", status_code=303)


@signed_in
async def app_page(request: Request, session: dict[str, Any]) -> Response:
    chat = request.app.state.chat
    app = await apps.get_app(chat, request.path_params["app_id"])
    tab = request.query_params.get("tab", "overview")
    if tab not in TABS:
        raise InvalidInput(f"unknown tab {tab!r}")
    context = {
        "app": serialize.app_json(app, with_secret=True),
        "tab": tab,
        "tabs": TABS,
        "notice": _notice(request),
        "snippet": str(loader_snippet(request)),
        "base_url": base_url(request),
        "live": await browse.live(chat, app) if tab == "live" else None,
        "rate_rules": ratelimits.RULES,
        "own_rates": ratelimits.parse_overrides(app.rate_limits),
        "notifications": await outbox.recent(chat, app, RECENT_NOTIFICATIONS) if tab == "notifications" else None,
        "delivery": mailbox.delivery(request.app.state.settings) if tab == "notifications" else None,
        **(await dashboard_webhooks.tab_context(chat, app) if tab == "webhooks" else {}),
    }
    return await render(request, session, "app.html", context)


def _notice(request: Request) -> str | None:
    for key, text in (("saved", "Settings saved. New sessions use them at once."),
                      ("rotated", "Secret key rotated. The old key no longer works."),
                      ("created", "App created."), *dashboard_webhooks.NOTICES):
        if key in request.query_params:
            return text
    return None


@signed_in
async def save_settings(request: Request, session: dict[str, Any]) -> Response:
    app_id = request.path_params["app_id"]
    changes = apps.parse_form_settings(dict(await request.form()))
    await apps.update_settings(request.app.state.chat, app_id, changes)
    return RedirectResponse(f"/dashboard/apps/{app_id}?tab=settings&saved=1", status_code=303)


@signed_in
async def rotate_secret(request: Request, session: dict[str, Any]) -> Response:
    app_id = request.path_params["app_id"]
    if (await request.form()).get("confirm") != "on":
        raise InvalidInput("tick the confirmation box: the old secret key stops working at once")
    await apps.rotate_secret(request.app.state.chat, app_id)
    return RedirectResponse(f"/dashboard/apps/{app_id}?rotated=1", status_code=303)


@signed_in
async def users_page(request: Request, session: dict[str, Any]) -> Response:
    return await _browse(request, session, browse.users, "users.html")


@signed_in
async def conversations_page(request: Request, session: dict[str, Any]) -> Response:
    return await _browse(request, session, browse.conversations, "conversations.html")


async def _browse(request: Request, session: dict[str, Any], lister, name: str) -> Response:
    chat = request.app.state.chat
    app = await apps.get_app(chat, request.path_params["app_id"])
    search = request.query_params.get("q", "").strip()
    page = browse.parse_page(request.query_params.get("page"))
    context = {"app": serialize.app_json(app), "q": search, **await lister(chat, app, search, page)}
    return await render(request, session, name, context)


@signed_in
async def conversation_page(request: Request, session: dict[str, Any]) -> Response:
    chat = request.app.state.chat
    app = await apps.get_app(chat, request.path_params["app_id"])
    conversation_id = request.query_params.get("id", "")
    if not conversation_id:
        raise InvalidInput("which conversation? the page needs ?id=")
    detail = await browse.conversation(chat, app, conversation_id)
    return await render(request, session, "conversation.html", {"app": serialize.app_json(app), **detail})


@signed_in
async def notification_page(request: Request, session: dict[str, Any]) -> Response:
    """One notification as it was sent: with no SMTP server configured, the development mailbox."""
    chat = request.app.state.chat
    app = await apps.get_app(chat, request.path_params["app_id"])
    raw = request.query_params.get("id", "")
    content = await outbox.content(chat, app, int(raw)) if NOTIFICATION_ID.fullmatch(raw) else None
    if content is None:
        raise NotFound(f"this app has no notification {raw!r} with content to show")
    context = {"app": serialize.app_json(app), "notification_id": int(raw), "content": content}
    response = await render(request, session, "notification.html", context)
    if content.get("html"):
        response.headers["content-security-policy"] = mailbox.preview_csp(content["html"])
    return response


templates.env.filters["utc"] = mailbox.utc

APP = "/dashboard/apps/{app_id}"
routes = [
    Route("/dashboard/login", login_page, methods=["GET"]),
    Route("/dashboard/login", login, methods=["POST"]),
    Route("/dashboard/logout", logout, methods=["POST"]),
    Route("/dashboard", apps_page, methods=["GET"]),
    Route("/dashboard/apps", create_app, methods=["POST"]),
    Route(APP, app_page, methods=["GET"]),
    Route(APP + "/settings", save_settings, methods=["POST"]),
    Route(APP + "/rotate", rotate_secret, methods=["POST"]),
    Route(APP + "/users", users_page, methods=["GET"]),
    Route(APP + "/conversations", conversations_page, methods=["GET"]),
    # the conversation id in the query: ids may hold '/', '..', '?' or '#', which a path cannot carry intact
    Route(APP + "/conversation", conversation_page, methods=["GET"]),
    Route(APP + "/notification", notification_page, methods=["GET"]),
    Route(APP + "/webhooks", signed_in(dashboard_webhooks.save), methods=["POST"]),
    Route(APP + "/webhooks/test", signed_in(dashboard_webhooks.send_test), methods=["POST"]),
    Route(APP + "/webhooks/redeliver", signed_in(dashboard_webhooks.redeliver), methods=["POST"]),
]
