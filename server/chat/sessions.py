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


@dataclasses.dataclass(frozen=True, slots=True)
class Me:
    """The session's user as a session needs it, not the whole row: thousands of guests each hold one."""

    id: int  # the row's primary key
    user_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class Session:
    app: App  # shared by every session of the app (ChatContext.current_app)
    user: Me
    address: str = "unknown"  # the client's address (server.proxies), for per-address limits
    verified: bool = False  # identity verification was on and passed when the session opened

    @property
    def app_id(self) -> str:
        return self.app.app_id

    @property
    def user_id(self) -> str:
        return self.user.user_id


@dataclasses.dataclass(frozen=True)
class _NeedsWrite:
    creates_user: bool


async def open_session(ctx: ChatContext, auth: Any, origin: str | None = None, address: str = "unknown") -> Session:
    """Check a connection's `{appId, me, signature?, token?}` and its embedding page's `origin`,
    and sync `me` as the app allows. Counts toward the app's per-address limits."""
    auth = require_object(auth, "auth")
    app_id = parse_id(auth.get("appId"), "appId")
    me = auth.get("me")
    if isinstance(me, dict):
        user_id = parse_id(me.get("id"), "me.id")
        fields = parse_user(me, user_id)
    else:
        user_id, fields = parse_id(me, "me"), None
    app = await ctx.current_app(app_id)
    await ctx.limits.hit("connectionsPerAddress", app.rate_limits, app_id, address)
    credentials = (auth.get("signature"), auth.get("token"), origin, address)
    # Most connections are returning users whose data has not changed: a read answers them
    # without queueing behind the single writer.
    found = await ctx.db.read(_open_session, app, user_id, fields, credentials, False)
    if isinstance(found, Session):
        return found
    if found.creates_user:
        await ctx.limits.hit("usersCreatedPerAddress", app.rate_limits, app_id, address)
    return await ctx.db.write(_open_session, app, user_id, fields, credentials, True)


def _open_session(
    app: App, user_id: str, fields: dict[str, Any] | None, credentials: tuple[Any, ...], may_write: bool
) -> Session | _NeedsWrite:
    signature, token, origin, address = credentials
    require_allowed_origin(app.allowed_origins, origin)
    identity.verify(app, user_id, signature, token)
    user = lookup.user_or_none(app, user_id)
    verified = bool(app.identity_verification)
    if fields is None or app.disallow_user_sync:
        # With user sync disallowed the browser only names existing users; its data is not applied.
        if user is None:
            raise unknown_user(app, user_id)
        return Session(app, Me(user.id, user_id), address, verified)
    if user is not None and not _changes(user, fields):
        return Session(app, Me(user.id, user_id), address, verified)
    if not may_write:
        return _NeedsWrite(creates_user=user is None)
    return Session(app, Me(upsert_user(app, user_id, fields).id, user_id), address, verified)


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
