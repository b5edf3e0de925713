"""Per-app rate limits (JSON overrides of the defaults) and the looser browser sync under identity
verification (off: verified sessions sync only themselves and conversations they are in)."""

from peewee import BooleanField, TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("app", "rate_limits", TextField(default="{}")),
        migrator.add_column("app", "loose_verified_sync", BooleanField(default=False)),
    )
