from contextlib import contextmanager

from django.db import connection


@contextmanager
def without_constraint(model, name):
    """Drop one of the model's constraints inside the block, as data loaded around it would have been.

    SQLite drops a constraint by rebuilding the table from the model's constraints, so the constraint is
    left out of them meanwhile. The caller removes rows that would violate it before the block ends.
    Needs a test with transaction=True (SQLite refuses schema changes inside a transaction).
    """
    meta = model._meta
    original = meta.constraints
    constraint = next(c for c in original if c.name == name)
    meta.constraints = [c for c in original if c is not constraint]
    try:
        with connection.schema_editor() as editor:
            editor.remove_constraint(model, constraint)
        yield
    finally:
        meta.constraints = original
        with connection.schema_editor() as editor:
            editor.add_constraint(model, constraint)
