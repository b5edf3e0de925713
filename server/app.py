"""The app factory: settings in, one ASGI application (Socket.IO + Starlette) out."""

from __future__ import annotations

import contextlib
import logging
import pathlib
from collections.abc import AsyncIterator

import socketio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from server.chat import _limits_storage, admin
from server.chat.context import ChatContext
from server.chat.ratelimits import RateLimiter
from server.cluster import Cluster
from server.config import Settings
from server.db.database import Database
from server.proxies import ClientAddress
from server.realtime import _internals
from server.realtime.engine import EngineOptions
from server.realtime.handlers import RealtimeHandlers
from server.realtime.server import create_sio
from server.realtime.writer import settle
from server.serving import UVICORN_OPTIONS
from server.notify.inbound import InboundMail
from server.notify.worker import Notifier
from server.webhooks.worker import WebhookSender
from server.web import dashboard, demo, embed, rest, unsubscribe
from server.web.headers import SecurityHeaders
from server.web.paths import StrictPaths
from server.web.responses import EXCEPTION_HANDLERS, JSON

log = logging.getLogger(__name__)
DASHBOARD_ASSETS = pathlib.Path(__file__).with_name("web") / "dashboard_assets"


class ParleyApp(socketio.ASGIApp):
    """The ASGI app, with the pieces tests and the CLI reach for kept as attributes."""

    settings: Settings
    chat: ChatContext
    realtime: RealtimeHandlers
    cluster: Cluster | None
    notifier: Notifier


async def health(request: Request) -> Response:
    """Liveness, and how realtime frames are written (the start-up check and the live counts)."""
    sio = request.app.state.sio
    realtime = {**request.app.state.realtime_check, **sio.eio.report(), "deliveries": sio.manager.deliveries}
    cluster = request.app.state.cluster
    return JSON({"status": "ok", "realtime": realtime, **({"cluster": cluster.report()} if cluster else {})})


async def readiness(request: Request) -> Response:
    """Ready to take traffic: the database and (when configured) Redis answer, and not shutting down.
    A load balancer sends new visitors only to ready processes."""
    state = request.app.state
    problems = [] if await state.chat.db.ping() else ["the database is unreachable"]
    if state.cluster is not None:
        problems += await state.cluster.problems()
    if state.stopping:
        problems.append("shutting down")
    return JSON({"status": "unready", "problems": problems} if problems else {"status": "ready"}, 503 if problems else 200)


def engine_options(settings: Settings) -> EngineOptions:
    return EngineOptions(
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        backlog_per_socket=settings.ws_backlog_bytes,
        backlog_total=settings.ws_backlog_total_bytes,
        connections_per_address=settings.connections_per_address,
        packets_per_second=settings.packets_per_second,
        packet_burst=4 * settings.packets_per_second,
        client_address=ClientAddress(settings.trusted_proxies),
    )


def create_app(settings: Settings) -> ParleyApp:
    database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    cluster = Cluster.create(settings.redis_url, settings.node_lease_seconds) if settings.redis_url else None
    shared = {"events": cluster.bus, "guests": cluster.guests, "presence": cluster.presence} if cluster else {}
    channels = ("email", "sms") if settings.sms_webhook_url else ("email",)
    chat = ChatContext(database, limits=RateLimiter(settings.redis_url), notification_channels=channels, **shared)
    notifier = Notifier(chat, settings)
    webhooks = WebhookSender(chat, settings)
    inbound = InboundMail(chat, *settings.inbound_smtp, settings.mail_domain) if settings.inbound_smtp else None
    sio = create_sio(engine_options(settings))
    realtime = RealtimeHandlers(sio, chat)
    realtime_check = _internals.check(UVICORN_OPTIONS["ws"])
    if cluster is not None:  # events may have been missed while the bus was away: clients catch up by id
        cluster.bus.on_gap = lambda: sio.eio.ask_to_reconnect("events from other processes may have been missed")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database.start()  # applies pending migrations before the first request
        _internals.log_check(realtime_check)
        _limits_storage.check()
        if settings.admin_password:  # PARLEY_ADMIN_PASSWORD: stored as a hash, like `parley admin set-password`
            await admin.set_password(chat, settings.admin_password)
        if cluster is not None:
            await cluster.start()
        await notifier.start()
        await webhooks.start()
        if inbound is not None:
            await inbound.start()
        try:
            yield
        finally:
            # uvicorn has stopped accepting and closed every websocket with 1012 (clients reconnect
            # elsewhere); events still being handled finish, then shared state is given back at once.
            web.state.stopping = True
            still_running = await settle(timeout=10)
            if still_running:
                log.warning("%d event handlers still running at shutdown", still_running)
            if inbound is not None:
                await inbound.stop()
            await notifier.stop()
            await webhooks.stop()
            if cluster is not None:
                await cluster.stop()
            await chat.limits.close()
            database.close()

    web = Starlette(
        routes=[Route("/health", health), Route("/healthz", health), Route("/readyz", readiness), *rest.routes, *embed.routes(), *demo.routes(), *dashboard.routes, *unsubscribe.routes,
                Mount("/dashboard-assets", StaticFiles(directory=DASHBOARD_ASSETS))],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    web.router.redirect_slashes = False  # an unknown path is a JSON 404, not a redirect to guess at
    web.state.chat = chat
    web.state.settings = settings
    web.state.sio = sio
    web.state.client_address = ClientAddress(settings.trusted_proxies)
    web.state.realtime_check = realtime_check
    web.state.cluster = cluster
    web.state.stopping = False
    app = ParleyApp(sio, other_asgi_app=SecurityHeaders(StrictPaths(embed.PublicAssets(web))))
    app.settings, app.chat, app.realtime, app.cluster, app.notifier = settings, chat, realtime, cluster, notifier
    return app
