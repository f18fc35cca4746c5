"""`ingest prune --raw-older-than AGE`: drop old raw responses, never text, metadata or revisions.

Nothing is deleted unless asked. WARC files are append-only, so what goes is whole files: a
file goes when every response in it is older than the cutoff, no writer has it open, and no
newer revisit elsewhere relies on a payload it holds. Articles and fetch-log rows that pointed
into it keep everything else (their text, revisions and metadata are in the database); only
`show --raw`, `reextract` and WARC export lose those pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased

from ingest.store.engine import reading
from ingest.store.models import Article, FetchLog, RawResponse
from ingest.warc.recovery import OPEN_DIR


@dataclass
class Plan:
    files: list[str] = field(default_factory=list)
    records: int = 0
    bytes: int = 0
    articles: int = 0  # articles whose raw page goes (their text stays)
    kept_for_revisits: list[str] = field(default_factory=list)
    orphan_files: list[str] = field(default_factory=list)  # WARC files no row points into


def plan_prune(engine: Engine, folder: Path, cutoff: datetime) -> Plan:
    plan = Plan()
    open_now = {m.name for m in (folder / OPEN_DIR).glob("*")} if folder.is_dir() else set()
    newest = (
        sa.select(RawResponse.warc_file, sa.func.max(RawResponse.fetched_at).label("newest"))
        .group_by(RawResponse.warc_file)
        .subquery()
    )
    old = sa.select(newest.c.warc_file).where(newest.c.newest < cutoff)
    inner = aliased(RawResponse)
    needed = (
        sa.select(inner.warc_file)
        .join(RawResponse, RawResponse.refers_to == inner.id)
        .where(RawResponse.warc_file != inner.warc_file, RawResponse.fetched_at >= cutoff)
        .distinct()
    )
    with reading(engine) as conn:
        candidates = set(conn.execute(old).scalars()) - open_now
        plan.kept_for_revisits = sorted(candidates & set(conn.execute(needed).scalars()))
        plan.files = sorted(candidates - set(plan.kept_for_revisits))
        known = set(conn.execute(sa.select(RawResponse.warc_file).distinct()).scalars())
        for start in range(0, len(plan.files), 500):
            chunk = plan.files[start : start + 500]
            rows = sa.select(RawResponse.id).where(RawResponse.warc_file.in_(chunk))
            plan.records += conn.execute(
                sa.select(sa.func.count()).select_from(rows.subquery())
            ).scalar()
            plan.articles += conn.execute(
                sa.select(sa.func.count()).where(Article.page_raw_id.in_(rows))
            ).scalar()
    plan.bytes = sum(
        (folder / name).stat().st_size for name in plan.files if (folder / name).exists()
    )
    if folder.is_dir():
        plan.orphan_files = sorted(
            p.name
            for p in folder.glob("*.warc.gz")
            if p.name not in known and p.name not in open_now
        )
    return plan


def prune(engine: Engine, folder: Path, plan: Plan) -> int:
    """Carry out `plan`: the rows first (one transaction per file), then the file itself, so a
    crash in between leaves a file nothing points to (`ingest check` reports it)."""
    removed = 0
    for name in plan.files:
        rows = sa.select(RawResponse.id).where(RawResponse.warc_file == name)
        with engine.begin() as conn:
            conn.execute(
                sa.update(Article).where(Article.page_raw_id.in_(rows)).values(page_raw_id=None)
            )
            conn.execute(sa.update(FetchLog).where(FetchLog.raw_id.in_(rows)).values(raw_id=None))
            conn.execute(
                sa.update(RawResponse).where(RawResponse.refers_to.in_(rows)).values(refers_to=None)
            )
            conn.execute(sa.delete(RawResponse).where(RawResponse.warc_file == name))
        (folder / name).unlink(missing_ok=True)
        removed += 1
    return removed
