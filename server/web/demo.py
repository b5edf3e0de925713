"""The demo at /demo: the documentation's group chat, running, beside its own code."""

from __future__ import annotations

import secrets

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from server.chat import apps
from server.chat.demo import DEMO_APP_ID, DEMO_USERS
from server.chat.errors import NotFound
from server.web.embed import ROOT, templates
from server.web.headers import demo_csp

DEMO = ROOT / "demo"
demo_templates = Jinja2Templates(directory=str(DEMO))


def base_url(request: Request) -> str:
    """The URL visitors reach this server at: PARLEY_PUBLIC_URL if set, else the request's own."""
    configured = request.app.state.settings.public_url
    return configured or str(request.base_url).rstrip("/")


def loader_snippet(request: Request, nonce: str | None = None) -> Markup:
    """TalkJS's asynchronous loader snippet, pointing at this server's /talk.js (with a CSP nonce
    when it runs in one of Parley's own pages)."""
    html = templates.get_template("_loader_snippet.html").render(base_url=base_url(request), nonce=nonce)
    return Markup(html.strip())


async def demo_page(request: Request) -> Response:
    nonce = secrets.token_urlsafe(16)
    chosen = request.query_params.get("user")
    me = next((u for u in DEMO_USERS if u["id"] == chosen), DEMO_USERS[0])
    try:
        await apps.get_app(request.app.state.chat, DEMO_APP_ID)
        demo_ready = True
    except NotFound:
        demo_ready = False
    context = {
        "me": me,
        "users": DEMO_USERS,
        "demo_ready": demo_ready,
        "code": (DEMO / "static" / "group-chat.js").read_text(),
        "snippet": loader_snippet(request, nonce),  # runs in the page's <head>
        "snippet_text": str(loader_snippet(request)),  # shown, escaped, to copy
    }
    return _with_csp(demo_templates.TemplateResponse(request, "index.html", context), nonce)


async def lobby_page(request: Request) -> Response:
    nonce = secrets.token_urlsafe(16)
    response = demo_templates.TemplateResponse(request, "lobby.html", {"snippet": loader_snippet(request, nonce)})
    return _with_csp(response, nonce)


def _with_csp(response: Response, nonce: str) -> Response:
    response.headers["Content-Security-Policy"] = demo_csp(nonce)
    return response


def routes() -> list[Route | Mount]:
    return [
        Route("/demo", demo_page),
        Route("/demo/lobby", lobby_page),
        Mount("/demo", StaticFiles(directory=DEMO / "static")),
    ]
