"""REST API v1: TalkJS's paths and JSON. Each handler parses, calls `server.chat`, shapes the answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.chat import apps, conversations, messages, participants, users
from server.chat.context import ChatContext
from server.db.models import App
from server.web.responses import JSON, read_json, read_optional_json

Handler = Callable[[Request, ChatContext, App], Awaitable[Any]]


def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: resolve the app, check its secret key, answer with JSON (`{}` for no data)."""

    async def endpoint(request: Request) -> Response:
        chat: ChatContext = request.app.state.chat
        app = await apps.authenticate(chat, request.path_params["app_id"], request.headers.get("authorization"))
        await chat.limits.hit("restCallsPerApp", app.rate_limits, app.app_id)
        result = await handler(request, chat, app)
        return JSON({} if result is None else result)

    endpoint.__name__ = handler.__name__
    return endpoint


def _p(request: Request, name: str) -> str:
    return request.path_params[name]


async def put_user(request: Request, chat: ChatContext, app: App) -> Any:
    await users.put_user(chat, app, _p(request, "user_id"), await read_json(request))


async def get_user(request: Request, chat: ChatContext, app: App) -> Any:
    return await users.get_user(chat, app, _p(request, "user_id"))


async def get_user_conversations(request: Request, chat: ChatContext, app: App) -> Any:
    return await users.list_user_conversations(chat, app, _p(request, "user_id"), dict(request.query_params))


async def put_conversation(request: Request, chat: ChatContext, app: App) -> Any:
    return await conversations.put_conversation(chat, app, _p(request, "conversation_id"), await read_json(request))


async def get_conversation(request: Request, chat: ChatContext, app: App) -> Any:
    return await conversations.get_conversation(chat, app, _p(request, "conversation_id"))


async def delete_conversation(request: Request, chat: ChatContext, app: App) -> Any:
    return await conversations.delete_conversation(chat, app, _p(request, "conversation_id"))


async def list_conversations(request: Request, chat: ChatContext, app: App) -> Any:
    return await conversations.list_conversations(chat, app, dict(request.query_params))


async def put_participant(request: Request, chat: ChatContext, app: App) -> Any:
    cid, uid = _p(request, "conversation_id"), _p(request, "user_id")
    return await participants.put_participant(chat, app, cid, uid, await read_optional_json(request))


async def patch_participant(request: Request, chat: ChatContext, app: App) -> Any:
    cid, uid = _p(request, "conversation_id"), _p(request, "user_id")
    return await participants.patch_participant(chat, app, cid, uid, await read_json(request))


async def delete_participant(request: Request, chat: ChatContext, app: App) -> Any:
    cid, uid = _p(request, "conversation_id"), _p(request, "user_id")
    return await participants.delete_participant(chat, app, cid, uid)


async def list_messages(request: Request, chat: ChatContext, app: App) -> Any:
    return await messages.list_messages(chat, app, _p(request, "conversation_id"), dict(request.query_params))


async def post_messages(request: Request, chat: ChatContext, app: App) -> Any:
    stored = await messages.post_messages(chat, app, _p(request, "conversation_id"), await read_json(request))
    return {"data": stored}


async def get_message(request: Request, chat: ChatContext, app: App) -> Any:
    return await messages.get_message(chat, app, _p(request, "conversation_id"), _p(request, "message_id"))


async def put_message(request: Request, chat: ChatContext, app: App) -> Any:
    cid, mid = _p(request, "conversation_id"), _p(request, "message_id")
    return await messages.edit_message(chat, app, cid, mid, await read_json(request))


async def delete_message(request: Request, chat: ChatContext, app: App) -> Any:
    return await messages.delete_message(chat, app, _p(request, "conversation_id"), _p(request, "message_id"))


def _route(path: str, **methods: Handler) -> Route:
    """One path, one handler per HTTP method."""
    by_method = {name.upper(): authenticated(h) for name, h in methods.items()}

    async def dispatch(request: Request) -> Response:
        return await by_method.get(request.method, by_method.get("GET"))(request)  # HEAD answers as GET

    return Route("/v1/{app_id}" + path, dispatch, methods=list(by_method))


CONVERSATION = "/conversations/{conversation_id}"
routes = [
    _route("/users/{user_id}", put=put_user, get=get_user),
    _route("/users/{user_id}/conversations", get=get_user_conversations),
    _route("/conversations", get=list_conversations),
    _route(CONVERSATION, put=put_conversation, get=get_conversation, delete=delete_conversation),
    _route(CONVERSATION + "/participants/{user_id}", put=put_participant, patch=patch_participant,
           delete=delete_participant),
    _route(CONVERSATION + "/messages", get=list_messages, post=post_messages),
    _route(CONVERSATION + "/messages/{message_id}", get=get_message, put=put_message, delete=delete_message),
]
