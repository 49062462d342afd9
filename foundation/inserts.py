"""One-statement inserts for rows written on a hot path (the sign POST, issue 11).

``Model.save()`` on a new row runs the same ``INSERT ... RETURNING id`` after its own checks
and bookkeeping (the update-or-insert decision, signals, parent links); for a plain model with
an automatic primary key, no signal receivers and no parents, that bookkeeping is all it adds.

The statement's text is built once per model, database and conflict rule by Django's own
operations (quoting, ``ON CONFLICT``, ``RETURNING``), and each call only prepares the values,
field by field, as Django's insert compiler does (``pre_save``, then ``get_db_prep_save``: so
defaults, ``auto_now_add``, encryption and JSON work as with ``save()``). Compiling the same
statement on every call was a fifth of the sign POST's CPU. Where Django would write something
other than one placeholder per column (a value that is an expression, a database default, a
field with its own placeholder, a returned column with a converter), the call goes through
Django's insert instead."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.constants import OnConflict
from django.db.models.fields import Field


def row_insert[M: models.Model](instance: M) -> M:
    """INSERT ``instance`` and return it with its id (and other returned fields) set, as
    ``save()`` leaves a new row."""
    inserted = _insert(instance, on_conflict=None)
    if inserted is None:  # an INSERT without ON CONFLICT returns its row or raises
        raise RuntimeError("INSERT returned no row")
    return inserted


def row_insert_unless_exists[M: models.Model](instance: M) -> M | None:
    """``INSERT ... ON CONFLICT DO NOTHING``: ``instance`` with its id set, or None when a
    unique constraint already held such a row (nothing is written)."""
    return _insert(instance, on_conflict=OnConflict.IGNORE)


@dataclass(frozen=True)
class _Statement:
    sql: str | None  # None: this model's rows go through Django's insert every time
    fields: tuple[Field, ...]
    returning: tuple[Field, ...]


_statements: dict[tuple[type[models.Model], str, OnConflict | None], _Statement] = {}


def _insert[M: models.Model](instance: M, *, on_conflict: OnConflict | None) -> M | None:
    model = type(instance)
    if instance.pk is not None:
        raise TypeError(f"{model.__name__}: a new row's id is the database's to choose")
    # As save() does: an unsaved related object is refused, not written as NULL.
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    using = router.db_for_write(model, instance=instance)
    key = (model, using, on_conflict)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements.setdefault(key, _statement(model, using, on_conflict))
    connection = connections[using]
    sql = statement.sql
    params = _params(instance, statement, connection) if sql is not None else None
    # As save() does: a failed INSERT marks the caller's atomic block for rollback.
    with transaction.mark_for_rollback_on_error(using):
        if sql is None or params is None:
            rows = _django_insert(instance, statement, using, on_conflict)
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)  # type: ignore[arg-type]  # prepared db values
                rows = connection.ops.fetch_returned_rows(cursor, ())
    if not rows:
        return None
    for value, field in zip(rows[0], statement.returning, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = using
    return instance


def _statement(model: type[models.Model], using: str, on_conflict: OnConflict | None) -> _Statement:
    meta = model._meta
    # What save() would do differently: parents, generated columns, a primary key already set.
    if meta.parents or meta.auto_field is None or any(f.generated for f in meta.concrete_fields):
        raise TypeError(f"{model.__name__}: for plain models with an automatic id only")
    fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field)
    returning = tuple(meta.db_returning_fields)
    connection = connections[using]
    ops = connection.ops
    compiler = models.sql.InsertQuery(model).get_compiler(using=using)
    columns = [field.get_col(meta.db_table, field) for field in returning]
    returning_sql, returning_params = ops.returning_columns(list(returning))
    compilable = (
        connection.features.can_return_columns_from_insert
        and bool(fields)
        and not any(f.has_db_default() or hasattr(f, "get_placeholder") for f in fields)
        and not compiler.get_converters(columns)
        and not returning_params
    )
    if not compilable:
        return _Statement(sql=None, fields=fields, returning=returning)
    qn = compiler.quote_name
    conflict = ops.on_conflict_suffix_sql(list(fields), on_conflict, (), ())
    parts = [
        ops.insert_statement(on_conflict=on_conflict),
        qn(meta.db_table),
        "(" + ", ".join(qn(f.column) for f in fields) + ")",
        "VALUES (" + ", ".join(["%s"] * len(fields)) + ")",
        conflict,
        returning_sql,
    ]
    return _Statement(sql=" ".join(p for p in parts if p), fields=fields, returning=returning)


def _params(
    instance: models.Model, statement: _Statement, connection: BaseDatabaseWrapper
) -> list[object] | None:
    """Each column's value as Django's insert compiler prepares it, or None when one of them
    is an expression (Django's insert writes that as SQL, not as a parameter)."""
    params = []
    for field in statement.fields:
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):
            return None
        params.append(field.get_db_prep_save(value, connection=connection))
    return params


def _django_insert(
    instance: models.Model, statement: _Statement, using: str, on_conflict: OnConflict | None
) -> list[tuple[object, ...]]:
    # Not in the type stubs: the private insert that Model.save_base uses.
    return type(instance)._base_manager._insert(  # type: ignore[attr-defined]
        [instance],
        fields=list(statement.fields),
        returning_fields=list(statement.returning),
        using=using,
        on_conflict=on_conflict,
    )
