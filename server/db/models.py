"""peewee models: the latest schema. Migrations in `migrations/` build it; a test checks they agree."""

from __future__ import annotations

from peewee import (
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database_proxy = DatabaseProxy()


# Foreign keys that lead a composite index get no index of their own (index=False): the
# composite one serves lookups by that key, and a second index would only cost writes.


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class App(BaseModel):
    app_id = CharField(max_length=64, unique=True)
    name = CharField(max_length=200)
    secret_key = CharField(max_length=128)
    disallow_user_sync = BooleanField(default=False)
    disallow_conversation_sync = BooleanField(default=False)
    identity_verification = BooleanField(default=False)
    participant_limit = IntegerField(default=100)
    guest_limit = IntegerField(default=10_000)
    allowed_origins = TextField(default="")  # comma-separated; empty means any origin
    created_at = BigIntegerField()
    rate_limits = TextField(default="{}")  # JSON {rule: rate} overriding chat.ratelimits.RULES' defaults
    loose_verified_sync = BooleanField(default=False)  # verified sessions may sync anyone and anything
    notification_delay = IntegerField(default=60)  # seconds of quiet before missed messages are sent
    notification_link = TextField(null=True)  # where notifications link back to; {conversationId} is replaced
    webhook_url = TextField(null=True)  # where events are POSTed; None: no webhooks
    webhook_events = TextField(default="[]")  # JSON list of the event types sent
    webhook_allow_http = BooleanField(default=False)  # plain http:// (for development)


class User(BaseModel):
    app = ForeignKeyField(App, on_delete="CASCADE", index=False)
    user_id = CharField(max_length=255)
    name = CharField(max_length=255)
    email = TextField(null=True)  # JSON list of strings
    phone = TextField(null=True)  # JSON list of strings
    photo_url = TextField(null=True)
    welcome_message = TextField(null=True)
    role = CharField(max_length=255, null=True)
    locale = CharField(max_length=64, null=True)
    custom = TextField(default="{}")  # JSON object of strings
    availability_text = TextField(null=True)
    created_at = BigIntegerField()

    class Meta:
        indexes = ((("app", "user_id"), True),)


class Conversation(BaseModel):
    app = ForeignKeyField(App, on_delete="CASCADE", index=False)
    conversation_id = CharField(max_length=255)
    subject = TextField(null=True)
    photo_url = TextField(null=True)
    welcome_messages = TextField(null=True)  # JSON list of strings
    custom = TextField(default="{}")
    created_at = BigIntegerField()
    last_message_at = BigIntegerField(null=True)

    class Meta:
        indexes = (
            (("app", "conversation_id"), True),
            (("app", "created_at"), False),
        )


class Participant(BaseModel):
    conversation = ForeignKeyField(Conversation, on_delete="CASCADE", index=False)
    user = ForeignKeyField(User, on_delete="CASCADE", index=False)
    access = CharField(max_length=16, default="ReadWrite")
    notify = CharField(max_length=16, default="true")  # "true" | "false" | "MentionsOnly"
    last_read_seq = BigIntegerField(default=0)  # Message.seq of the last message read
    joined_at = BigIntegerField()
    last_activity_at = BigIntegerField()  # copy of the conversation's activity, for the user's feed

    class Meta:
        indexes = (
            (("conversation", "user"), True),
            (("user", "last_activity_at"), False),
        )


class Message(BaseModel):
    seq = BigAutoField()  # orders messages; never reused after a delete (see migration 0001); never shown
    message_id = CharField(max_length=64, unique=True)
    conversation = ForeignKeyField(Conversation, on_delete="CASCADE", index=False)
    sender = ForeignKeyField(User, null=True, on_delete="SET NULL")
    type = CharField(max_length=16)
    text = TextField()
    custom = TextField(default="{}")
    origin = CharField(max_length=16)
    created_at = BigIntegerField()
    edited_at = BigIntegerField(null=True)
    referenced_message_id = CharField(max_length=64, null=True)
    attachment = TextField(null=True)  # JSON {url, size}
    location = TextField(null=True)  # JSON [lat, long]
    idempotency_key = CharField(max_length=255, null=True)

    class Meta:
        indexes = (
            (("conversation", "seq"), False),
            (("conversation", "sender", "idempotency_key"), True),
        )


class Notification(BaseModel):
    """The outbox: one recipient's missed messages of one conversation, for one channel.

    `pending` rows wait for `due_at` and for the conversation to be quiet; a process claims a due row
    (`sending`, `due_at` then being when its claim lapses), delivers it and marks it `sent`,
    `skipped` (nothing left unread) or `failed`; a failed attempt goes back to `pending` with a
    later `due_at` (backoff). Sent rows stay, as the dashboard's history and the reply tokens' record.
    """

    id = BigAutoField()
    app = ForeignKeyField(App, on_delete="CASCADE", index=False)
    conversation = ForeignKeyField(Conversation, on_delete="CASCADE", index=False)
    user = ForeignKeyField(User, on_delete="CASCADE", index=False)
    channel = CharField(max_length=16)  # "email" | "sms"
    status = CharField(max_length=16, default="pending")
    first_seq = BigIntegerField()  # the first Message.seq that notified this recipient
    last_seq = BigIntegerField(null=True)  # the conversation's newest when claimed: what it covers ends there
    due_at = BigIntegerField()
    attempts = IntegerField(default=0)
    detail = TextField(default="")  # what happened: to whom, or why not
    content = TextField(null=True)  # JSON of what was sent (subject, text, html), for the dashboard
    created_at = BigIntegerField()
    sent_at = BigIntegerField(null=True)
    replied_at = BigIntegerField(null=True)  # its reply address has been used

    class Meta:
        indexes = (
            (("status", "due_at"), False),
            (("conversation", "user", "channel", "status"), False),
            (("app", "created_at"), False),
        )


class WebhookEvent(BaseModel):
    """The webhook outbox: one event for one app's webhook, written in the transaction of the change
    it tells of, delivered (and retried) by server.webhooks.worker; kept afterwards as the delivery log."""

    id = BigAutoField()
    app = ForeignKeyField(App, on_delete="CASCADE", index=False)
    event_id = CharField(max_length=64, unique=True)  # the body's `id`: the receiver's de-duplication key
    type = CharField(max_length=64)
    body = TextField()  # the exact JSON that is signed and sent
    ordering_key = CharField(max_length=255, null=True)  # a conversation id: its events go in order
    status = CharField(max_length=16, default="pending")  # pending | sending | delivered | failed
    attempts = IntegerField(default=0)
    due_at = BigIntegerField()
    created_at = BigIntegerField()
    delivered_at = BigIntegerField(null=True)
    response_status = IntegerField(null=True)  # of the last attempt
    latency_ms = IntegerField(null=True)  # of the last attempt
    detail = TextField(default="")

    class Meta:
        indexes = (
            (("status", "due_at"), False),
            (("app", "ordering_key", "id"), False),
        )


class Setting(BaseModel):
    """Server-wide values: the admin password hash, the dashboard cookie secret."""

    key = CharField(max_length=64, unique=True)
    value = TextField()


MODELS = (App, User, Conversation, Participant, Message, Notification, WebhookEvent, Setting)
