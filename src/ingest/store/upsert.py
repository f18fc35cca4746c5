"""Dialect-specific INSERT … ON CONFLICT, the one SQL construct SQLAlchemy doesn't unify."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa


def insert_ignore(
    conn: sa.Connection, model: Any, conflict: Sequence[str], returning: Sequence[str] = ()
) -> Any:
    """`INSERT … ON CONFLICT (conflict) DO NOTHING`, returning these columns of the new rows
    only. Built once per dialect, table and columns (see store.rowupdate: building a statement
    costs more than running it)."""
    postgres = conn.dialect.name == "postgresql"
    return _insert_ignore(postgres, model.__table__, tuple(conflict), tuple(returning))


@functools.cache
def _insert_ignore(
    postgres: bool, table: sa.Table, conflict: tuple[str, ...], returning: tuple[str, ...]
) -> Any:
    # imported here: the PostgreSQL dialect costs ~30 ms of every SQLite command's start
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if postgres else sqlite
    statement = dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    return statement.returning(*(table.c[name] for name in returning)) if returning else statement
