"""The unsubscribe link of notification emails (RFC 8058 one-click, and a page for people).

Mail clients POST `List-Unsubscribe=One-Click` to the link from the List-Unsubscribe header; a
person who follows the link gets a page with a button, so that a link scanner's GET changes nothing.
The signed token is the only credential: it names one participant in one conversation.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.chat import replies
from server.chat.errors import ChatError
from server.web.embed import templates

PAGE = "notifications/unsubscribe.html"


async def confirm(request: Request) -> Response:
    token = request.query_params.get("token", "")
    try:
        (await replies.signer(request.app.state.chat)).unsubscribe_target(token)
    except ChatError as error:
        return templates.TemplateResponse(request, PAGE, {"error": error.message}, status_code=error.status)
    return templates.TemplateResponse(request, PAGE, {"token": token})


async def unsubscribe(request: Request) -> Response:
    form = await request.form()
    token = request.query_params.get("token") or str(form.get("token", ""))
    try:
        done = await replies.unsubscribe(request.app.state.chat, token)
    except ChatError as error:
        return templates.TemplateResponse(request, PAGE, {"error": error.message}, status_code=error.status)
    return templates.TemplateResponse(request, PAGE, {"done": done})


routes = [
    Route("/notifications/unsubscribe", confirm, methods=["GET"]),
    Route("/notifications/unsubscribe", unsubscribe, methods=["POST"]),
]
