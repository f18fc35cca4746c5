"""Taking leases on rows (feeds, article pages): the one claim statement every worker uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ingest.owner import is_dead_local


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
    [key] = sa.inspect(model).primary_key
    return list(
        conn.execute(
            sa.update(model)
            .where(key.in_(candidates.scalar_subquery()))
            .values(lease_owner=owner, lease_until=until)
            .returning(*returning)
        ).all()
    )


def free(conn: sa.Connection, model: Any, now: datetime, *where: Any) -> sa.ColumnElement[bool]:
    """The condition of a `model` row nobody holds: no lease, an expired one, or the lease of a
    dead local process (released at once rather than at expiry). Every claim path uses it."""
    dead = dead_holders(conn, model, now, *where)
    return sa.or_(model.lease_until.is_(None), model.lease_until < now, model.lease_owner.in_(dead))


def dead_holders(conn: sa.Connection, model: Any, now: datetime, *where: Any) -> list[str]:
    """Owners of live leases on `model` rows (those matching `where`) that were processes of
    this host and died: their leases need not wait for expiry (see ingest.owner)."""
    holders = conn.execute(
        sa.select(model.lease_owner).where(model.lease_until >= now, *where).distinct()
    ).scalars()
    return [holder for holder in holders if holder and is_dead_local(holder)]
