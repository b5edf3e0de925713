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

from server.chat import admin
from server.chat.context import ChatContext
from server.config import Settings
from server.db.database import Database
from server.realtime.handlers import RealtimeHandlers
from server.realtime.server import create_sio
from server.web import dashboard, demo, embed, rest
from server.web.responses import EXCEPTION_HANDLERS, JSON

log = logging.getLogger(__name__)
DASHBOARD_ASSETS = pathlib.Path(__file__).with_name("web") / "dashboard_assets"


class ParleyApp(socketio.ASGIApp):
    """The ASGI app, with the pieces tests and the CLI reach for kept as attributes."""

    settings: Settings
    chat: ChatContext
    realtime: RealtimeHandlers


async def health(request: Request) -> Response:
    return JSON({"status": "ok"})


def create_app(settings: Settings) -> ParleyApp:
    database = Database(settings.database_url)
    chat = ChatContext(database)
    sio = create_sio()
    realtime = RealtimeHandlers(sio, chat)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database.start()  # applies pending migrations before the first request
        if settings.admin_password:  # PARLEY_ADMIN_PASSWORD: stored as a hash, like `parley admin set-password`
            await admin.set_password(chat, settings.admin_password)
        try:
            yield
        finally:
            database.close()

    web = Starlette(
        routes=[Route("/health", health), *rest.routes, *embed.routes(), *demo.routes(), *dashboard.routes,
                Mount("/dashboard-assets", StaticFiles(directory=DASHBOARD_ASSETS))],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    web.state.chat = chat
    web.state.settings = settings
    app = ParleyApp(sio, other_asgi_app=embed.PublicAssets(web))
    app.settings, app.chat, app.realtime = settings, chat, realtime
    return app
