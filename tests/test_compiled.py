"""Queries compiled once per database (server/db/compiled.py)."""

from __future__ import annotations

import gc

from server.db.compiled import Compiled, P
from server.db.database import Database
from server.db.models import App, User

FIND_APP = Compiled(lambda: App.select().where(App.app_id == P.app_id).limit(1))
APP_WITH_USER_COUNT = Compiled(
    lambda: App.select(App, User.id.alias("some_user")).join(User, on=(User.app == App.id)).where(App.app_id == P.app_id)
)


def make_db(tmp_path, name: str) -> Database:
    database = Database(f"sqlite:///{tmp_path}/{name}.db", readers=1)
    database.start()
    return database


def test_binds_values_and_converts_like_peewee(tmp_path):
    db = make_db(tmp_path, "a")
    try:
        db.write_blocking(lambda: App.create(app_id="x", name="X", secret_key="k", created_at=1, disallow_user_sync=True))
        app = db.write_blocking(lambda: FIND_APP.first(app_id="x"))
        assert app.name == "X" and app.disallow_user_sync is True and isinstance(app.id, int)
        assert db.write_blocking(lambda: FIND_APP.first(app_id="nope")) is None
        db.write_blocking(lambda: User.create(app=app.id, user_id="u", name="U", created_at=1))
        [row] = db.write_blocking(lambda: APP_WITH_USER_COUNT.rows(app_id="x"))
        assert row.app_id == "x" and row.some_user == 1  # a selected alias becomes an attribute
    finally:
        db.close()


def test_each_database_gets_its_own_compiled_sql(tmp_path):
    first = make_db(tmp_path, "first")
    first.write_blocking(lambda: App.create(app_id="one", name="First", secret_key="k", created_at=1))
    assert first.write_blocking(lambda: FIND_APP.first(app_id="one")).name == "First"
    first.close()
    second = make_db(tmp_path, "second")  # rebinds the models to a new database object
    try:
        second.write_blocking(lambda: App.create(app_id="one", name="Second", secret_key="k", created_at=1))
        assert second.write_blocking(lambda: FIND_APP.first(app_id="one")).name == "Second"
    finally:
        second.close()
    del first
    gc.collect()
    assert len(FIND_APP._cache) <= 1  # entries of closed databases go with them
