"""Browser sessions: who is connecting (auth, identity verification, user sync) and what they may open."""

from __future__ import annotations

import dataclasses
from typing import Any

from server.chat import identity, lookup, serialize
from server.chat.access import require_allowed_origin
from server.chat.context import ChatContext
from server.chat.errors import ChatError, InvalidInput, NotFound
from server.chat.users import JSON_LIST_FIELDS, upsert_user
from server.chat.validation import parse_id, parse_new_message, parse_user, require_object
from server.db.models import App, User


@dataclasses.dataclass(frozen=True)
class Session:
    app: App
    user: User

    @property
    def app_id(self) -> str:
        return self.app.app_id

    @property
    def user_id(self) -> str:
        return self.user.user_id


async def open_session(ctx: ChatContext, auth: Any, origin: str | None = None) -> Session:
    """Check a connection's `{appId, me, signature?, token?}` and its embedding page's `origin`,
    and sync `me` as the app allows."""
    auth = require_object(auth, "auth")
    app_id = parse_id(auth.get("appId"), "appId")
    me = auth.get("me")
    if isinstance(me, dict):
        user_id = parse_id(me.get("id"), "me.id")
        fields = parse_user(me, user_id)
    else:
        user_id, fields = parse_id(me, "me"), None
    credentials = (auth.get("signature"), auth.get("token"), origin)
    # Most connections are returning users whose data has not changed: a read answers them
    # without queueing behind the single writer.
    session = await ctx.db.read(_open_session, app_id, user_id, fields, credentials, False)
    return session or await ctx.db.write(_open_session, app_id, user_id, fields, credentials, True)


def _open_session(
    app_id: str, user_id: str, fields: dict[str, Any] | None, credentials: tuple[Any, Any, Any], may_write: bool
) -> Session | None:
    app = lookup.find_app(app_id)
    signature, token, origin = credentials
    require_allowed_origin(app.allowed_origins, origin)
    identity.verify(app, user_id, signature, token)
    user = lookup.user_or_none(app, user_id)
    if fields is None or app.disallow_user_sync:
        # With user sync disallowed the browser only names existing users; its data is not applied.
        if user is None:
            raise unknown_user(app, user_id)
        return Session(app, user)
    if user is not None and not _changes(user, fields):
        return Session(app, user)
    return Session(app, upsert_user(app, user_id, fields)) if may_write else None


def _changes(user: User, fields: dict[str, Any]) -> bool:
    """Would storing these browser-sent fields change the stored user?"""
    candidate = User(**user.__data__)
    serialize.store_fields(candidate, fields, JSON_LIST_FIELDS)
    return candidate.__data__ != user.__data__


async def check_credentials(ctx: ChatContext, app_id: str, data: Any, origin: str | None) -> dict[str, Any]:
    """`session.hasValidCredentials()`: would the app accept this user's signature or token from this page?"""
    data = require_object(data, "credentials")
    user_id = parse_id(data.get("me"), "me")
    app = await ctx.db.read(lookup.find_app, app_id)
    try:
        require_allowed_origin(app.allowed_origins, origin)
        identity.verify(app, user_id, data.get("signature"), data.get("token"))
    except ChatError as error:
        return {"valid": False, "errorCode": error.code, "message": error.message}
    return {"valid": True}


def unknown_user(app: App, user_id: str) -> NotFound:
    if app.disallow_user_sync:
        return NotFound(
            f"user {user_id!r} does not exist and this app disallows user synchronization via the browser; "
            "create the user over REST first",
            code="USER_SYNC_DISALLOWED",
        )
    return NotFound(f"user {user_id!r} does not exist; pass the user's data to create it", code="USER_NOT_FOUND")


def parse_client_message(data: Any) -> tuple[str, dict[str, Any]]:
    """A `message:send` payload -> (conversation id, parsed message). The sender is the session's user."""
    data = require_object(data, "message")
    if "sender" in data or "type" in data:
        raise InvalidInput("a client sends its own UserMessages: leave out sender and type")
    conversation_id = parse_id(data.get("conversationId"), "conversationId")
    fields = {k: v for k, v in data.items() if k != "conversationId"}
    return conversation_id, parse_new_message({**fields, "type": "UserMessage"})
