"""Webhooks: each app's webhook (URL, events, plain http allowed) and the outbox of events to deliver.

A frozen copy of the model, like 0001.
"""

from peewee import BigAutoField, BigIntegerField, BooleanField, CharField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class App(Base):
        pass

    class WebhookEvent(Base):
        id = BigAutoField()
        app = ForeignKeyField(App, on_delete="CASCADE", index=False)
        event_id = CharField(max_length=64, unique=True)
        type = CharField(max_length=64)
        body = TextField()
        ordering_key = CharField(max_length=255, null=True)
        status = CharField(max_length=16, default="pending")
        attempts = IntegerField(default=0)
        due_at = BigIntegerField()
        created_at = BigIntegerField()
        delivered_at = BigIntegerField(null=True)
        response_status = IntegerField(null=True)
        latency_ms = IntegerField(null=True)
        detail = TextField(default="")

        class Meta:
            indexes = (
                (("status", "due_at"), False),
                (("app", "ordering_key", "id"), False),
            )

    migrator.migrate(
        migrator.add_column("app", "webhook_url", TextField(null=True)),
        migrator.add_column("app", "webhook_events", TextField(default="[]")),
        migrator.add_column("app", "webhook_allow_http", BooleanField(default=False)),
    )
    db.create_tables([WebhookEvent])
