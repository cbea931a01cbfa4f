"""``save()`` without the ORM's per-call compilation, for the ledger's hot paths.

The ORM compiles every statement anew: 0.2–1.5 ms of CPU each, which was most of a Celery
routing task's time. These helpers build each INSERT / UPDATE once per model and set of
columns and take the values exactly as ``Model.save()`` would: ``pre_save`` (so ``auto_now``
and ``auto_now_add`` work) and ``get_db_prep_save`` (datetimes, JSON, booleans on PostgreSQL
and SQLite alike). What they skip: model signals (this project has none of its own) and
``full_clean`` (``save()`` does not call it either).

Use them only where a benchmark shows the difference (docs/ledger.md, "What routing costs");
everywhere else, the ORM.
"""

from __future__ import annotations

from functools import cache

from django.db import connection, models


def _quoted(model: type[models.Model], names: tuple[str, ...]) -> list[str]:
    return [connection.ops.quote_name(model._meta.get_field(name).column) for name in names]


@cache
def _insert_sql(model: type[models.Model], names: tuple[str, ...], rows: int) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    pk = connection.ops.quote_name(model._meta.pk.column)
    values = ", ".join([one] * rows)
    return f"INSERT INTO {table} ({', '.join(_quoted(model, names))}) VALUES {values} RETURNING {pk}"  # noqa: S608


@cache
def _update_sql(model: type[models.Model], names: tuple[str, ...]) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    sets = ", ".join(f"{column} = %s" for column in _quoted(model, names))
    return f"UPDATE {table} SET {sets} WHERE {connection.ops.quote_name(model._meta.pk.column)} = %s"  # noqa: S608


def _insert_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.local_concrete_fields if not f.primary_key]


def _values(obj: models.Model, fields: list[models.Field], *, add: bool) -> list:
    return [field.get_db_prep_save(field.pre_save(obj, add), connection) for field in fields]


def sql_insert(*objs: models.Model) -> None:
    """INSERT new instances of one model in one statement, as ``save()`` would; sets their pks."""
    if not objs:
        return
    model = type(objs[0])
    fields = _insert_fields(model)
    names = tuple(field.name for field in fields)
    params = [value for obj in objs for value in _values(obj, fields, add=True)]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(model, names, len(objs)), params)
        pks = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def sql_update(obj: models.Model, update_fields) -> int:
    """``obj.save(update_fields=...)`` in one prepared statement; returns the rows changed (0 or 1)."""
    model = type(obj)
    names = tuple(sorted(update_fields))
    fields = [model._meta.get_field(name) for name in names]
    with connection.cursor() as cursor:
        cursor.execute(_update_sql(model, names), [*_values(obj, fields, add=False), obj.pk])
        return cursor.rowcount
