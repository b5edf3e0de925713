"""What the browser loads: the SDK (`/talk.js`), its modules, the Socket.IO client, and the UI frames."""

from __future__ import annotations

import logging
import pathlib
import re
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from server.chat import access, apps, sessions
from server.chat.errors import ChatError
from server.web.headers import frame_csp
from server.web.responses import JSON, read_json

log = logging.getLogger(__name__)

ROOT = pathlib.Path(__file__).resolve().parents[2]
WIDGET = ROOT / "widget"
SOCKET_IO_CLIENT = WIDGET / "node_modules" / "socket.io-client" / "dist"
templates = Jinja2Templates(directory=str(ROOT / "templates"))
# Jinja's own `urlencode` keeps '/' (and so breaks ids holding one): a query value encodes everything.
templates.env.filters["query_value"] = lambda value: quote(str(value), safe="")
ORIGIN = re.compile(r"^https?://[^/?#\s]+$")
UI_KINDS = ("chatbox", "popup", "inbox")
CORS_PREFIXES = ("/talk.js", "/widget/", "/embed/")


class PublicAssets:
    """Lets any site load the SDK and its modules: cross-origin module imports need CORS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(CORS_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"].append((b"access-control-allow-origin", b"*"))
            await send(message)

        await self.app(scope, receive, send_with_cors)


async def talk_js(request: Request) -> Response:
    return FileResponse(WIDGET / "talk.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


async def app_info(request: Request) -> Response:
    """Public facts the SDK needs before it opens a UI (no secrets)."""
    app = await apps.get_app(request.app.state.chat, request.path_params["app_id"])
    return JSON({"appId": app.app_id, "name": app.name})


async def credentials(request: Request) -> Response:
    """`session.hasValidCredentials()`: would a session with these credentials be accepted?"""
    origin = request.headers.get("origin")
    result = await sessions.check_credentials(
        request.app.state.chat, request.path_params["app_id"], await read_json(request), origin
    )
    return JSON(result)


async def ui_frame(request: Request) -> Response:
    """The HTML shell of a chat UI, rendered inside the iframe the SDK creates."""
    kind = request.path_params["kind"]
    parent_origin = request.query_params.get("origin", "")
    try:
        if kind not in UI_KINDS:
            raise ChatError(f"there is no {kind!r} UI", code="NOT_FOUND", status=404)
        if not ORIGIN.match(parent_origin):
            raise ChatError("the frame needs ?origin= set to the embedding page's origin", code="INVALID_ORIGIN")
        if kind == "inbox" and request.query_params.get("asGuest", "").lower() in ("1", "true"):
            access.require_guest_view(kind)  # the same rule the realtime join applies
        app = await apps.get_app(request.app.state.chat, request.path_params["app_id"])
        access.require_allowed_origin(app.allowed_origins, parent_origin)
    except ChatError as error:
        context = {"code": error.code, "message": error.message}
        return templates.TemplateResponse(request, "embed/error.html", context, status_code=error.status)
    config = {"appId": app.app_id, "kind": kind, "parentOrigin": parent_origin}
    response = templates.TemplateResponse(request, "embed/chat.html", {"config": config})
    # the browser itself refuses to show the frame inside any other site than the allowed ones
    response.headers["Content-Security-Policy"] = frame_csp(access.allowed_origins(app.allowed_origins))
    return response


def routes() -> list[Route | Mount]:
    if not SOCKET_IO_CLIENT.is_dir():
        log.warning("%s is missing: run `npm ci` in widget/ (make run does)", SOCKET_IO_CLIENT)
    return [
        Route("/talk.js", talk_js),
        Mount("/widget/sdk", StaticFiles(directory=WIDGET / "sdk")),
        Mount("/widget/ui", StaticFiles(directory=WIDGET / "ui")),
        Mount("/widget/shared", StaticFiles(directory=WIDGET / "shared")),
        Mount("/widget/vendor", StaticFiles(directory=SOCKET_IO_CLIENT, check_dir=False)),
        Route("/embed/{app_id}/app.json", app_info),
        Route("/embed/{app_id}/credentials", credentials, methods=["POST"]),
        Route("/embed/{app_id}/{kind}", ui_frame),
    ]
