"""Notifications: the outbox table, and each app's quiet period and link back.

A frozen copy of the model, like 0001.
"""

from peewee import BigAutoField, BigIntegerField, CharField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class App(Base):
        pass

    class Conversation(Base):
        pass

    class User(Base):
        pass

    class Notification(Base):
        id = BigAutoField()
        app = ForeignKeyField(App, on_delete="CASCADE", index=False)
        conversation = ForeignKeyField(Conversation, on_delete="CASCADE", index=False)
        user = ForeignKeyField(User, on_delete="CASCADE", index=False)
        channel = CharField(max_length=16)
        status = CharField(max_length=16, default="pending")
        first_seq = BigIntegerField()
        last_seq = BigIntegerField(null=True)
        due_at = BigIntegerField()
        attempts = IntegerField(default=0)
        detail = TextField(default="")
        content = TextField(null=True)
        created_at = BigIntegerField()
        sent_at = BigIntegerField(null=True)
        replied_at = BigIntegerField(null=True)

        class Meta:
            indexes = (
                (("status", "due_at"), False),
                (("conversation", "user", "channel", "status"), False),
                (("app", "created_at"), False),
            )

    migrator.migrate(
        migrator.add_column("app", "notification_delay", IntegerField(default=60)),
        migrator.add_column("app", "notification_link", TextField(null=True)),
    )
    db.create_tables([Notification])
