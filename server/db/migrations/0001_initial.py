"""Initial schema: apps, users, conversations, participants, messages.

A frozen copy of the models as they stood when this migration was written, deliberately
independent of `server.db.models` (which always describes the latest schema): later
migrations change the tables with the migrator, and this file never changes.
"""

from peewee import (
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)
from playhouse.sqlite_ext import AutoIncrementField


def up(migrator, db):
    # A deleted message's seq must never come back: read markers point at seqs. PostgreSQL
    # sequences never reuse values; SQLite needs AUTOINCREMENT for that.
    seq_field = AutoIncrementField if isinstance(db, SqliteDatabase) else BigAutoField

    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class App(Base):
        app_id = CharField(max_length=64, unique=True)
        name = CharField(max_length=200)
        secret_key = CharField(max_length=128)
        disallow_user_sync = BooleanField(default=False)
        disallow_conversation_sync = BooleanField(default=False)
        identity_verification = BooleanField(default=False)
        participant_limit = IntegerField(default=100)
        guest_limit = IntegerField(default=10_000)
        allowed_origins = TextField(default="")
        created_at = BigIntegerField()

    class User(Base):
        app = ForeignKeyField(App, on_delete="CASCADE", index=False)
        user_id = CharField(max_length=255)
        name = CharField(max_length=255)
        email = TextField(null=True)
        phone = TextField(null=True)
        photo_url = TextField(null=True)
        welcome_message = TextField(null=True)
        role = CharField(max_length=255, null=True)
        locale = CharField(max_length=64, null=True)
        custom = TextField(default="{}")
        availability_text = TextField(null=True)
        created_at = BigIntegerField()

        class Meta:
            indexes = ((("app", "user_id"), True),)

    class Conversation(Base):
        app = ForeignKeyField(App, on_delete="CASCADE", index=False)
        conversation_id = CharField(max_length=255)
        subject = TextField(null=True)
        photo_url = TextField(null=True)
        welcome_messages = TextField(null=True)
        custom = TextField(default="{}")
        created_at = BigIntegerField()
        last_message_at = BigIntegerField(null=True)

        class Meta:
            indexes = ((("app", "conversation_id"), True), (("app", "created_at"), False))

    class Participant(Base):
        conversation = ForeignKeyField(Conversation, on_delete="CASCADE", index=False)
        user = ForeignKeyField(User, on_delete="CASCADE", index=False)
        access = CharField(max_length=16, default="ReadWrite")
        notify = CharField(max_length=16, default="true")
        last_read_seq = BigIntegerField(default=0)
        joined_at = BigIntegerField()
        last_activity_at = BigIntegerField()

        class Meta:
            indexes = ((("conversation", "user"), True), (("user", "last_activity_at"), False))

    class Message(Base):
        seq = seq_field()
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
        attachment = TextField(null=True)
        location = TextField(null=True)
        idempotency_key = CharField(max_length=255, null=True)

        class Meta:
            indexes = (
                (("conversation", "seq"), False),
                (("conversation", "sender", "idempotency_key"), True),
            )

    db.create_tables([App, User, Conversation, Participant, Message])
