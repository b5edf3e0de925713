"""Server-wide settings (the dashboard's admin password hash, its cookie signing secret).

A frozen copy of the model, like 0001.
"""

from peewee import CharField, Model, TextField


def up(migrator, db):
    class Setting(Model):
        key = CharField(max_length=64, unique=True)
        value = TextField()

        class Meta:
            database = db
            legacy_table_names = False

    db.create_tables([Setting])
