"""Queries compiled once. peewee builds a query's SQL on every call (~110 µs for a simple SELECT,
against ~6 µs to execute it on SQLite); on the hot paths (connecting, joining, sending) Parley
builds each query once per database and only binds new values.

    FIND_USER = Compiled(lambda: User.select().where((User.app == P.app) & (User.user_id == P.user_id)))
    user = FIND_USER.first(app=app.id, user_id="123")

`P.name` is a named placeholder; values are bound as given (no field conversion), so pass what
the column stores (ids for foreign keys, ints for booleans).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import peewee

from server.db.models import database_proxy


class _Placeholder:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Placeholders:
    def __getattr__(self, name: str) -> peewee.Value:
        return peewee.Value(_Placeholder(name), converter=False)


P = _Placeholders()


class Compiled:
    def __init__(self, build: Callable[[], peewee.Query]) -> None:
        self._build = build
        # Per database object (its dialect decides the SQL); weak, so a closed database's entry goes
        # with it and a new database never inherits SQL compiled for another.
        self._cache: weakref.WeakKeyDictionary[peewee.Database, tuple[peewee.Query, str, list[Any]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def _compiled(self) -> tuple[peewee.Query, str, list[Any]]:
        database = database_proxy.obj
        entry = self._cache.get(database)
        if entry is None:
            with self._lock:
                query = self._build()
                if isinstance(query, peewee.Insert) and database.returning_clause and not query._returning:
                    query = query.returning(query.table._meta.primary_key)  # how PostgreSQL reports the id
                sql, params = query.sql()
                entry = self._cache[database] = (query, sql, params)
        return entry

    def _bind(self, params: list[Any], values: dict[str, Any]) -> list[Any]:
        return [values[p.name] if isinstance(p, _Placeholder) else p for p in params]

    def sql(self, **values: Any) -> tuple[str, list[Any]]:
        """The SQL and its bound parameters (for EXPLAIN and tests)."""
        _, sql, params = self._compiled()
        return sql, self._bind(params, values)

    def execute(self, **values: Any):
        """Run it; returns the DB-API cursor."""
        _, sql, params = self._compiled()
        return database_proxy.obj.execute_sql(sql, self._bind(params, values))

    def rows(self, **values: Any) -> list[peewee.Model]:
        """Model instances of a SELECT (selected aliases become attributes)."""
        query, sql, params = self._compiled()
        cursor = database_proxy.obj.execute_sql(sql, self._bind(params, values))
        return _instances(query.model, cursor)

    def first(self, **values: Any) -> peewee.Model | None:
        found = self.rows(**values)
        return found[0] if found else None

    def tuples(self, **values: Any) -> list[tuple]:
        return list(self.execute(**values).fetchall())

    def insert(self, **values: Any) -> int:
        """Run an INSERT; returns the new row's id."""
        cursor = self.execute(**values)
        if database_proxy.obj.returning_clause:
            return cursor.fetchone()[0]
        return cursor.lastrowid


def _instances(model: type[peewee.Model], cursor: Any) -> list[peewee.Model]:
    """Rows as model instances, converting values as peewee would (bools, dates), without its
    per-query cursor-wrapper setup. Columns that are not the model's become attributes."""
    columns = model._meta.columns
    plan = []
    for description in cursor.description:
        field = columns.get(description[0])
        plan.append((field.name, field.python_value) if field is not None else (description[0], None))
    found = []
    for row in cursor.fetchall():
        instance = model.__new__(model)
        data: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for (name, convert), value in zip(plan, row, strict=True):
            if convert is None:
                extra[name] = value
            else:
                data[name] = value if value is None else convert(value)
        instance.__data__, instance._dirty, instance.__rel__ = data, set(), {}
        instance.__dict__.update(extra)
        found.append(instance)
    return found
