"""Webhook events: which exist, what each says, and recording them in the transaction of their change.

A change's webhook events are rows of the outbox (db.models.WebhookEvent) written inside the same
transaction as the change itself: a rolled-back write leaves none, a committed one cannot lose them.
Most come from the domain events a use case returns (ChatContext.write passes them through
`recorded`); the few changes that have no domain event (a user created or changed, a conversation
created, a notification started or sent) call `record` themselves. Bodies are TalkJS's:
`{"id", "createdAt", "type", "data"}` with `data` in the REST v1 shapes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from server.chat import events, ids, lookup, serialize
from server.chat.events import Event
from server.db.models import App, Conversation, User, WebhookEvent, database_proxy

TYPES = (
    "user.created",
    "user.updated",
    "message.sent",
    "message.updated",
    "message.deleted",
    "message.read",
    "conversation.created",
    "conversation.updated",
    "conversation.deleted",
    "conversation.participant.added",
    "conversation.participant.removed",
    "notification.triggered",
    "notification.sent",
)
FROM_DOMAIN = {
    events.MESSAGE_NEW: "message.sent",
    events.MESSAGE_UPDATED: "message.updated",
    events.MESSAGE_DELETED: "message.deleted",
    events.READ_MARKER: "message.read",
    events.CONVERSATION_UPDATED: "conversation.updated",
    events.CONVERSATION_DELETED: "conversation.deleted",
    events.PARTICIPANT_ADDED: "conversation.participant.added",
    events.PARTICIPANT_REMOVED: "conversation.participant.removed",
}
CONFIG_MAX_AGE_SECONDS = 2.0  # like ChatContext's settings: a change in another process applies within this

_configs: dict[str, tuple[float, int, frozenset[str]]] = {}  # app id -> (read at, app pk, types on)
_after = threading.local()  # the writer thread's events to record after the domain events of its use case


def recorded(fn: Callable[..., tuple[Any, list[Event]]], args: tuple) -> tuple[Any, list[Event]]:
    """Run a writing use case and, in its transaction, record the webhook events of what it changed:
    those of its domain events, then those it asked to come after them (`record(..., after=True)`)."""
    _after.pending = []
    try:
        result, emitted = fn(*args)
        for event in emitted:
            kind = FROM_DOMAIN.get(event.name)
            if kind is not None and wanted(event.app_id, kind):
                record(event.app_id, kind, _data(event), conversation_key(event.conversation_id))
        for later in _after.pending:
            _insert(*later)
    finally:
        _after.pending = None
    return result, emitted


def wanted(app_id: str, kind: str) -> bool:
    """Whether the app's webhook takes this type (read at most CONFIG_MAX_AGE_SECONDS ago)."""
    return kind in _config(app_id)[1]


def record(app_id: str, kind: str, data: dict[str, Any], ordering_key: str | None = None, after: bool = False) -> None:
    """One event into the outbox, if the app's webhook takes it (inside the caller's transaction);
    `after`: once the use case's domain events are recorded (a notification after its message)."""
    app_pk, types = _config(app_id)
    if kind not in types:
        return
    if after and getattr(_after, "pending", None) is not None:
        _after.pending.append((app_pk, kind, data, ordering_key))
    else:
        _insert(app_pk, kind, data, ordering_key)


def _insert(app_pk: int, kind: str, data: dict[str, Any], ordering_key: str | None) -> str:
    if ordering_key is not None and getattr(database_proxy.obj, "for_update", False):
        # PostgreSQL: an id is taken at insert but seen at commit; holding the key's lock until commit
        # makes a key's ids follow commit order, so a claim never sees a later event before an earlier one.
        database_proxy.obj.execute_sql("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{app_pk}:{ordering_key}",))
    now = ids.now_ms()
    event_id = "evt_" + ids.new_message_id().removeprefix("msg_")
    body = serialize.dumps({"id": event_id, "createdAt": now, "type": kind, "data": data})
    WebhookEvent.create(app=app_pk, event_id=event_id, type=kind, body=body, ordering_key=ordering_key,
                        due_at=now, created_at=now)
    return event_id


def conversation_key(conversation_id: str) -> str:
    """The ordering key of a conversation's events (a user's are `user_key`): each in order, apart."""
    return "c:" + conversation_id


def user_key(user_id: str) -> str:
    return "u:" + user_id


TEST = "webhook.test"


def record_test(app_id: str) -> str:
    """A test event for the app's webhook whatever types it takes (the dashboard's button, `parley
    webhook test`); returns its id."""
    app_pk, _ = _config(app_id)
    return _insert(app_pk, TEST, {"appId": app_id, "message": "A test event from Parley"}, None)


def forget(app_id: str) -> None:
    """The app's webhook settings changed (in this process): read them again."""
    _configs.pop(app_id, None)


def _config(app_id: str) -> tuple[int, frozenset[str]]:
    cached = _configs.get(app_id)
    if cached is not None and time.monotonic() - cached[0] < CONFIG_MAX_AGE_SECONDS:
        return cached[1], cached[2]
    app = App.get_or_none(App.app_id == app_id)
    types = frozenset(serialize.loads(app.webhook_events, [])) if app is not None and app.webhook_url else frozenset()
    _configs[app_id] = (time.monotonic(), app.id if app else 0, types)
    return (app.id if app else 0), types


def _data(event: Event) -> dict[str, Any]:
    """A domain event's webhook `data`: its payload, with the conversation (and users) in REST shapes."""
    data = dict(event.data)
    data.pop("idempotencyKey", None)
    if "conversation" not in data:
        data["conversation"] = _conversation(event.app_id, event.conversation_id)
    if event.name == events.MESSAGE_NEW and data.get("message", {}).get("senderId"):
        data["sender"] = _user(event.app_id, data["message"]["senderId"])
    if event.name in (events.PARTICIPANT_ADDED, events.PARTICIPANT_REMOVED, events.READ_MARKER) and event.user_id:
        data["user"] = _user(event.app_id, event.user_id)
    return data


def _conversation(app_id: str, conversation_id: str) -> dict[str, Any]:
    row = (
        Conversation.select(Conversation)
        .join(App, on=(Conversation.app == App.id))
        .where((App.app_id == app_id) & (Conversation.conversation_id == conversation_id))
        .first()
    )
    return lookup.conversation_view(row) if row is not None else {"id": conversation_id}  # deleted: its id is what is left


def _user(app_id: str, user_id: str) -> dict[str, Any] | None:
    row = User.select(User).join(App, on=(User.app == App.id)).where((App.app_id == app_id) & (User.user_id == user_id)).first()
    return serialize.user_json(row) if row is not None else None
