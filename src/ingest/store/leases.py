"""Taking leases on rows (feeds, article pages): the one claim statement every worker uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa


def take_leases(
    conn: sa.Connection,
    model: Any,
    candidates: sa.Select[Any],
    owner: str,
    until: datetime,
    returning: list[Any],
) -> list[sa.Row[Any]]:
    """Lease to `owner` the rows whose ids `candidates` selects, in one statement.

    `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)` on PostgreSQL: many nodes claim at
    once without waiting for, or taking, each other's rows. SQLite's transaction is `BEGIN
    IMMEDIATE` (store.engine), so claims there are serialized by the write lock.
    """
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    return list(
        conn.execute(
            sa.update(model)
            .where(model.id.in_(candidates.scalar_subquery()))
            .values(lease_owner=owner, lease_until=until)
            .returning(*returning)
        ).all()
    )
