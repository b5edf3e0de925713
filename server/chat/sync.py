"""Browser synchronization: what `setParticipant` / `setAttributes` send when a UI opens a conversation.

The app's two settings decide what the browser may change: with user sync disallowed, users must
already exist and their browser-side data is ignored; with conversation sync disallowed, the
browser may only open existing conversations and cannot change them.
"""

from __future__ import annotations

from typing import Any

from server.chat import limits, lookup, webhook_events
from server.chat.context import ChatContext
from server.chat.conversations import (
    add_participants,
    apply_attributes,
    conversation_updated_event,
    get_or_create,
    participant_added_event,
    update_participant,
)
from server.chat.errors import Forbidden, InvalidInput, NotFound, TooLarge
from server.chat.events import Event
from server.chat.sessions import Session, unknown_user
from server.chat.users import upsert_user
from server.chat.validation import (
    parse_conversation,
    parse_id,
    parse_participation,
    parse_user,
    reject_unknown,
    require_object,
)
from server.db.models import App, Conversation, User

SYNC_FIELDS = {"conversationId", "attributes", "participants"}
ATTRIBUTE_FIELDS = {"subject", "photoUrl", "custom", "welcomeMessages"}


def parse_sync(data: Any) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """`{conversationId, attributes?, participants?: [{user, access?, notify?}]}` -> parsed parts."""
    data = require_object(data, "conversation:sync")
    reject_unknown(data, SYNC_FIELDS, "conversation:sync")
    conversation_id = parse_id(data.get("conversationId"), "conversationId")
    attributes = require_object(data.get("attributes") or {}, "attributes")
    reject_unknown(attributes, ATTRIBUTE_FIELDS, "attributes")
    participants = data.get("participants") or []
    if not isinstance(participants, list):
        raise InvalidInput("participants must be a list")
    if len(participants) > limits.MAX_PARTICIPANTS_PER_PUT:
        raise TooLarge(f"participants holds more than {limits.MAX_PARTICIPANTS_PER_PUT} entries")
    return conversation_id, parse_conversation(attributes), [_parse_entry(p) for p in participants]


def _parse_entry(entry: Any) -> dict[str, Any]:
    entry = require_object(entry, "participants[]")
    reject_unknown(entry, {"user", "access", "notify"}, "participants[]")
    user = entry.get("user")
    if isinstance(user, dict):
        user_id = parse_id(user.get("id"), "participants[].user.id")
        fields: dict[str, Any] | None = parse_user(user, user_id)
    else:
        user_id, fields = parse_id(user, "participants[].user"), None
    settings = parse_participation({k: v for k, v in entry.items() if k != "user"})
    return {"user_id": user_id, "fields": fields, "settings": settings}


async def sync_conversation(ctx: ChatContext, session: Session, data: Any) -> dict[str, Any]:
    conversation_id, attributes, entries = parse_sync(data)
    app = await ctx.current_app(session.app_id)
    creating = await ctx.db.read(_users_to_create, session, entries)
    if creating:
        await ctx.limits.hit("usersCreatedPerAddress", app.rate_limits, app.app_id, session.address, cost=creating)
    return await ctx.write(_sync, session, conversation_id, attributes, entries)


def restricted(app: App, session: Session) -> bool:
    """With identity verification on, a verified session syncs only itself and conversations it is in
    (unless the app chose TalkJS's looser behaviour): a verified user cannot add herself to another
    conversation, nor rename or re-address other users."""
    return session.verified and bool(app.identity_verification) and not app.loose_verified_sync


def _users_to_create(session: Session, entries: list[dict[str, Any]]) -> int:
    app = lookup.find_app(session.app_id)
    if app.disallow_user_sync or app.disallow_conversation_sync or restricted(app, session):
        return 0
    wanted = [e["user_id"] for e in entries if e["fields"] is not None]
    return sum(1 for uid in wanted if lookup.user_or_none(app, uid) is None)


def _sync(session: Session, conversation_id: str, attributes: dict[str, Any], entries: list[dict[str, Any]]):
    app = lookup.find_app(session.app_id)  # settings as they are now, not as they were at connect
    if app.disallow_conversation_sync:
        return _sync_disallowed(app, conversation_id, attributes, entries)
    strict = restricted(app, session)
    if strict:
        _require_member_to_change(app, session, conversation_id, attributes, entries)
    users = [_user(app, entry, strict and entry["user_id"] != session.user_id) for entry in entries]
    conversation, created = get_or_create(app, conversation_id)
    changed = apply_attributes(conversation, attributes)
    emitted: list[Event] = []
    for entry, user in zip(entries, users, strict=True):
        emitted += _set_participant(app, conversation, user, entry["settings"])
    if changed and not created:
        emitted.insert(0, conversation_updated_event(app, lookup.conversation_view(conversation)))
    if created and webhook_events.wanted(app.app_id, "conversation.created"):
        view = {"conversation": lookup.conversation_view(conversation)}
        webhook_events.record(app.app_id, "conversation.created", view, webhook_events.conversation_key(conversation_id))
    return {"created": created}, emitted


def _sync_disallowed(app: App, conversation_id: str, attributes: dict[str, Any], entries: list[dict[str, Any]]):
    if attributes or entries:
        raise Forbidden(
            "this app disallows conversation synchronization via the browser: setParticipant and "
            "setAttributes cannot be used; create and change conversations over the REST API",
            code="CONVERSATION_SYNC_DISALLOWED",
        )
    try:
        lookup.find_conversation(app, conversation_id)
    except NotFound:
        raise NotFound(
            f"conversation {conversation_id!r} does not exist and this app disallows conversation "
            "synchronization via the browser",
            code="CONVERSATION_SYNC_DISALLOWED",
        ) from None
    return {"created": False}, []


def _require_member_to_change(app: App, session: Session, conversation_id: str, attributes: dict, entries: list) -> None:
    if not attributes and not entries:
        return
    conversation = lookup.conversation_or_none(app, conversation_id)
    if conversation is not None and lookup.find_participant(conversation, session.user) is None:
        raise Forbidden(
            f"with identity verification on, only participants of conversation {conversation_id!r} may change it "
            "from the browser (setParticipant, setAttributes); change it over the REST API",
            code="CONVERSATION_SYNC_RESTRICTED",
        )


def _user(app: App, entry: dict[str, Any], other_verified: bool = False) -> User:
    """The participant's user, created or updated from the browser's data where the app allows it."""
    if entry["fields"] is not None and not app.disallow_user_sync and not other_verified:
        return upsert_user(app, entry["user_id"], entry["fields"])
    user = User.get_or_none((User.app == app.id) & (User.user_id == entry["user_id"]))
    if user is None and other_verified:
        raise NotFound(
            f"user {entry['user_id']!r} does not exist; with identity verification on, a browser session creates "
            "and updates only its own user: create the others over the REST API",
            code="USER_SYNC_RESTRICTED",
        )
    if user is None:
        raise unknown_user(app, entry["user_id"])
    return user


def _set_participant(app: App, conversation: Conversation, user: User, settings: dict[str, str]) -> list[Event]:
    """Idempotent: adds the user, or changes only the settings that were given."""
    participant = lookup.find_participant(conversation, user)
    if participant is None:
        [(participant, user)] = add_participants(app, conversation, [user], settings)
        return [participant_added_event(app, conversation, participant, user)]
    return update_participant(app, conversation.conversation_id, user.user_id, participant, settings)
