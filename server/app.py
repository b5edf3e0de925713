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
from server.config import Settings
from server.db.database import Database
from server.proxies import ClientAddress
from server.realtime import _internals
from server.realtime.engine import EngineOptions
from server.realtime.handlers import RealtimeHandlers
from server.realtime.server import create_sio
from server.serving import UVICORN_OPTIONS
from server.web import dashboard, demo, embed, rest
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


async def health(request: Request) -> Response:
    """Liveness, and how realtime frames are written (the start-up check and the live counts)."""
    sio = request.app.state.sio
    realtime = {**request.app.state.realtime_check, **sio.eio.report(), "deliveries": sio.manager.deliveries}
    return JSON({"status": "ok", "realtime": realtime})


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
    chat = ChatContext(database, limits=RateLimiter(settings.redis_url))
    sio = create_sio(engine_options(settings))
    realtime = RealtimeHandlers(sio, chat)
    realtime_check = _internals.check(UVICORN_OPTIONS["ws"])

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database.start()  # applies pending migrations before the first request
        _internals.log_check(realtime_check)
        _limits_storage.check()
        if settings.admin_password:  # PARLEY_ADMIN_PASSWORD: stored as a hash, like `parley admin set-password`
            await admin.set_password(chat, settings.admin_password)
        try:
            yield
        finally:
            await chat.limits.close()
            database.close()

    web = Starlette(
        routes=[Route("/health", health), Route("/healthz", health), *rest.routes, *embed.routes(), *demo.routes(), *dashboard.routes,
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
    app = ParleyApp(sio, other_asgi_app=SecurityHeaders(StrictPaths(embed.PublicAssets(web))))
    app.settings, app.chat, app.realtime = settings, chat, realtime
    return app
