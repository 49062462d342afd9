"""One-statement inserts for rows written on a hot path (the sign POST, issue 11).

``Model.save()`` on a new row runs the same ``INSERT ... RETURNING id`` after its own checks
and bookkeeping (the update-or-insert decision, signals, parent links); for a plain model with
an automatic primary key, no signal receivers and no parents, that bookkeeping is all it adds.
This is Django's own insert (``QuerySet._insert``, which ``save`` calls), so every field still
prepares its value (encryption, JSON, defaults)."""

from __future__ import annotations

from django.db import models, router, transaction
from django.db.models.constants import OnConflict


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


def _insert[M: models.Model](instance: M, *, on_conflict: OnConflict | None) -> M | None:
    model = type(instance)
    meta = model._meta
    # What save() would do differently: parents, generated columns, a primary key already set.
    if meta.parents or meta.auto_field is None or any(f.generated for f in meta.concrete_fields):
        raise TypeError(f"{model.__name__}: for plain models with an automatic id only")
    if instance.pk is not None:
        raise TypeError(f"{model.__name__}: a new row's id is the database's to choose")
    # As save() does: an unsaved related object is refused, not written as NULL.
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    using = router.db_for_write(model, instance=instance)
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    returning = meta.db_returning_fields
    # As save() does: a failed INSERT marks the caller's atomic block for rollback.
    with transaction.mark_for_rollback_on_error(using):
        # Not in the type stubs: the private insert that Model.save_base uses.
        rows = model._base_manager._insert(  # type: ignore[attr-defined]
            [instance],
            fields=fields,
            returning_fields=returning,
            using=using,
            on_conflict=on_conflict,
        )
    if not rows:
        return None
    for value, field in zip(rows[0], returning, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = using
    return instance
