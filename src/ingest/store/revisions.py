"""Article versions: every distinct (title, text) an article had, never overwritten.

Texts live in content-addressed, compressed blobs, so a version shared by several articles or
seen again is stored once. Versions are numbered 1, 2, … per article in the order they were seen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.errors import UsageError
from ingest.store.blobs import get_blob, put_packed
from ingest.store.engine import reading
from ingest.store.models import Article, Revision, valid_id
from ingest.timestamps import iso_utc
from ingest.update.textfacts import TextFacts


@dataclass(frozen=True, slots=True)
class RevisionRecord:
    number: int  # 1 = the first version seen
    created_at: datetime
    title: str | None
    content_hash: str
    reason: str  # initial | page | feed
    text: str | None = None  # loaded on request

    def as_json(self) -> dict[str, Any]:
        return {
            "revision": self.number,
            "created_at": iso_utc(self.created_at),
            "title": self.title,
            "text": self.text,
            "content_hash": self.content_hash,
            "reason": self.reason,
        }


# `add_revision`'s statements, built once (every saved page runs them: see store.rowupdate)
_LATEST = (
    sa.select(Revision.title, Revision.content_hash)
    .where(Revision.article_id == sa.bindparam("article_id"))
    .order_by(Revision.id.desc())
    .limit(1)
)
_ADD = sa.insert(Revision.__table__)
_counted = sa.bindparam("counted")
_COUNT = (
    sa.update(Article.__table__)
    .where(Article.__table__.c.id == _counted)
    .values(
        revision_count=sa.select(sa.func.count())
        .where(Revision.article_id == _counted)
        .scalar_subquery()
    )
)


def add_revision(
    conn: sa.Connection,
    article_id: int,
    *,
    title: str | None,
    facts: TextFacts,
    reason: str,
    now: datetime,
) -> bool:
    """Record (title, text) as the article's newest version; False when it is the latest one
    already (same title, same normalized text). The first version's reason is `initial`."""
    latest = conn.execute(_LATEST, {"article_id": article_id}).first()
    if latest is not None and (latest.title, latest.content_hash) == (title, facts.content_hash):
        return False
    put_packed(conn, [facts.blob])
    conn.execute(
        _ADD,
        {
            "article_id": article_id,
            "created_at": now,
            "title": title,
            "text_blob": facts.blob.hash,
            "content_hash": facts.content_hash,
            "reason": "initial" if latest is None else reason,
        },
    )
    conn.execute(_COUNT, {"counted": article_id})
    return True


def revisions_of(
    conn: sa.Connection, article_ids: Sequence[int], *, with_text: bool
) -> dict[int, list[RevisionRecord]]:
    """The versions of each article, oldest first."""
    rows = conn.execute(
        sa.select(Revision)
        .where(Revision.article_id.in_(list(article_ids)))
        .order_by(Revision.article_id, Revision.id)
    ).mappings()
    found: dict[int, list[RevisionRecord]] = defaultdict(list)
    for row in rows:
        versions = found[row["article_id"]]
        text = None
        if with_text:
            text = (get_blob(conn, row["text_blob"]) or b"").decode()
        versions.append(
            RevisionRecord(
                len(versions) + 1,
                row["created_at"],
                row["title"],
                row["content_hash"],
                row["reason"],
                text,
            )
        )
    return found


def list_revisions(engine: Engine, article_id: int, *, with_text: bool) -> list[RevisionRecord]:
    """An article's versions, oldest first; UsageError when there is no such article."""
    with reading(engine) as conn:
        query = sa.select(Article.id).where(Article.id == article_id)
        if not valid_id(article_id) or conn.execute(query).first() is None:
            raise UsageError(f"no such article: {article_id}")
        return revisions_of(conn, [article_id], with_text=with_text)[article_id]
