"""Periodic upkeep of the archive: fetch-log pruning, search-index merging (SQLite FTS5; the
PostgreSQL GIN index needs none) and query-planner statistics.

On PostgreSQL several daemons share the archive: the work runs on one of them at a time, behind
a session advisory lock (`pg_try_advisory_lock`); the others skip it instead of waiting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from ingest.store.fetchlog import prune_fetch_log

log = logging.getLogger(__name__)
MAINTENANCE_LOCK = 7403162  # next to the migrations lock (7403161)


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    pruned: int  # fetch-log rows deleted


def _prune(engine: Engine, retention_days: int) -> int:
    """Retention 0 keeps the fetch log forever."""
    return prune_fetch_log(engine, retention_days) if retention_days else 0


def run_maintenance(engine: Engine, retention_days: int) -> MaintenanceReport | None:
    """Prune the fetch log, optimize the search index, refresh planner statistics; None when
    another node is on it."""
    if engine.dialect.name != "postgresql":
        pruned = _prune(engine, retention_days)
        with engine.begin() as conn:  # the statistics it gathers are written: commit them
            # merge the full-text index's segments (FTS5 adds one per write transaction)
            conn.exec_driver_sql("INSERT INTO article_fts(article_fts) VALUES ('optimize')")
            conn.exec_driver_sql("PRAGMA optimize")
        return MaintenanceReport(pruned)
    with engine.connect() as lock_conn:
        got = lock_conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({MAINTENANCE_LOCK})")
        lock_conn.commit()
        if not got.scalar():
            return None
        try:
            pruned = _prune(engine, retention_days)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        finally:
            lock_conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MAINTENANCE_LOCK})")
            lock_conn.commit()
    return MaintenanceReport(pruned)
