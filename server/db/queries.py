"""The queries on Parley's hot paths (connecting, joining, sending), compiled once (see compiled.py)."""

from __future__ import annotations

from peewee import JOIN

from server.db.compiled import Compiled, P
from server.db.models import App, Conversation, Message, Notification, Participant, User, database_proxy

APP = Compiled(lambda: App.select().where(App.app_id == P.app_id).limit(1))
USER = Compiled(lambda: User.select().where((User.app == P.app) & (User.user_id == P.user_id)).limit(1))
CONVERSATION = Compiled(
    lambda: Conversation.select()
    .where((Conversation.app == P.app) & (Conversation.conversation_id == P.conversation_id))
    .limit(1)
)
PARTICIPANT = Compiled(
    lambda: Participant.select()
    .where((Participant.conversation == P.conversation) & (Participant.user == P.user))
    .limit(1)
)
# A conversation's participants as users, each with its participation as p_* attributes.
MEMBERS = Compiled(
    lambda: User.select(
        User,
        Participant.id.alias("p_id"),
        Participant.access.alias("p_access"),
        Participant.notify.alias("p_notify"),
        Participant.last_read_seq.alias("p_last_read_seq"),
        Participant.joined_at.alias("p_joined_at"),
        Participant.last_activity_at.alias("p_last_activity_at"),
    )
    .join(Participant, on=(Participant.user == User.id))
    .where(Participant.conversation == P.conversation)
    .order_by(Participant.id)
)
READS = Compiled(
    lambda: Participant.select(User.user_id, Participant.last_read_seq)
    .join(User, on=(Participant.user == User.id))
    .where(Participant.conversation == P.conversation)
    .order_by(Participant.id)
)


def _messages():
    """Messages with `sender_uid`, the sender's public id, attached."""
    return Message.select(Message, User.user_id.alias("sender_uid")).join(
        User, JOIN.LEFT_OUTER, on=(Message.sender == User.id)
    )


LATEST = Compiled(
    lambda: _messages().where(Message.conversation == P.conversation).order_by(Message.seq.desc()).limit(P.limit)
)
LATEST_BEFORE = Compiled(
    lambda: _messages()
    .where((Message.conversation == P.conversation) & (Message.seq < P.before))
    .order_by(Message.seq.desc())
    .limit(P.limit)
)
AFTER = Compiled(
    lambda: _messages()
    .where((Message.conversation == P.conversation) & (Message.seq > P.after))
    .order_by(Message.seq)
    .limit(P.limit)
)
MESSAGE_BY_SEQ = Compiled(lambda: _messages().where(Message.seq == P.seq))
MESSAGE_BY_ID = Compiled(
    lambda: _messages().where((Message.conversation == P.conversation) & (Message.message_id == P.message_id))
)
SEQ_OF = Compiled(
    lambda: Message.select(Message.seq)
    .where((Message.conversation == P.conversation) & (Message.message_id == P.message_id))
    .limit(1)
)
BY_IDEMPOTENCY_KEY = Compiled(
    lambda: Message.select()
    .where(
        (Message.conversation == P.conversation) & (Message.sender == P.sender) & (Message.idempotency_key == P.key)
    )
    .limit(1)
)
SYSTEM_BY_IDEMPOTENCY_KEY = Compiled(
    lambda: Message.select()
    .where((Message.conversation == P.conversation) & Message.sender.is_null() & (Message.idempotency_key == P.key))
    .limit(1)
)
INSERT_MESSAGE = Compiled(
    lambda: Message.insert(
        message_id=P.message_id,
        conversation=P.conversation,
        sender=P.sender,
        type=P.type,
        text=P.text,
        custom=P.custom,
        origin=P.origin,
        created_at=P.created_at,
        referenced_message_id=P.referenced_message_id,
        idempotency_key=P.idempotency_key,
    )
)
USER_COLUMNS = tuple(f.name for f in User._meta.sorted_fields if f.name != "id")
INSERT_USER = Compiled(lambda: User.insert(**{name: getattr(P, name) for name in USER_COLUMNS}))
READ_UP_TO = Compiled(
    lambda: Participant.update(last_read_seq=P.seq).where(
        (Participant.conversation == P.conversation) & (Participant.user == P.user)
    )
)
CONVERSATION_ACTIVITY = Compiled(
    lambda: Conversation.update(last_message_at=P.at).where(Conversation.id == P.conversation)
)
PARTICIPANTS_ACTIVITY = Compiled(
    lambda: Participant.update(last_activity_at=P.at).where(Participant.conversation == P.conversation)
)


def lock_conversation(conversation_pk: int) -> None:
    """Hold the conversation's row until this transaction ends (PostgreSQL; SQLite's one writer already
    serializes). Writes into one conversation from several processes then run one after another: a
    message's seq follows commit order (catch-up "after message X" misses nothing committed later with
    a smaller seq), and limit and idempotency checks see every earlier write."""
    if getattr(database_proxy.obj, "for_update", False):
        Conversation.select(Conversation.id).where(Conversation.id == conversation_pk).for_update().execute()

# Who a new message may notify: participants with notify on (or mentions only), not the sender, as
# (user pk, user id, name, email JSON, phone JSON, notify) tuples.
NOTIFY_CANDIDATES = Compiled(
    lambda: Participant.select(User.id, User.user_id, User.name, User.email, User.phone, Participant.notify)
    .join(User, on=(Participant.user == User.id))
    .where((Participant.conversation == P.conversation) & (Participant.notify != "false") & (User.id != P.sender))
)
PENDING_NOTIFICATIONS = Compiled(
    lambda: Notification.select(Notification.user, Notification.channel).where(
        (Notification.conversation == P.conversation) & (Notification.status == "pending")
    )
)
