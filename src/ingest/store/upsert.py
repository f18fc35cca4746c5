"""Dialect-specific INSERT … ON CONFLICT, the one SQL construct SQLAlchemy doesn't unify."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(conn: sa.Connection, model: Any, conflict: list[str]) -> Any:
    """`INSERT … ON CONFLICT (conflict) DO NOTHING`; with `.returning()` only new rows come back."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing(index_elements=conflict)
