"""Every near-duplicate link re-evaluated with the current rule (`ingest dedupe --recheck`).

Archives made by an earlier rule (or before the shingle index existed) are repaired: the index
is rebuilt for every article, then the articles are grouped again in arrival order (id order),
each verified against the original of the group it joins exactly as a new arrival is
(dedupe.choose_group), and only the links that differ are written. The index is rewritten in
short transactions and the links at the end: a run stopped midway changes no link, and a
second run does the same work again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.dedupe import Thresholds, band_keys, choose_group, features, verify
from ingest.store.engine import reading
from ingest.store.models import Article, ArticleBand
from ingest.store.similar import index_text, load_candidates, sharing_keys

log = logging.getLogger(__name__)
BATCH = 500
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RelinkOutcome:
    articles: int
    kept: int  # links the rule confirms (same original)
    removed: int  # links it drops (or moves to another original)
    added: int  # links it makes (or moves here)


@dataclass(frozen=True, slots=True)
class LinkStats:
    articles: int
    linked: int  # articles with a duplicate_of
    groups: int  # distinct originals
    unindexed: int  # articles with text but no index keys: `--recheck` adds them


def link_stats(engine: Engine) -> LinkStats:
    indexed = sa.select(ArticleBand.article_id).distinct().scalar_subquery()
    query = sa.select(
        sa.func.count(),
        sa.func.count(Article.duplicate_of),
        sa.func.count(Article.duplicate_of.distinct()),
        sa.func.count().filter(Article.text != "", Article.id.not_in(indexed)),
    )
    with reading(engine) as conn:
        return LinkStats(*conn.execute(query.select_from(Article)).one())


def relink(engine: Engine, thresholds: Thresholds) -> RelinkOutcome:
    """Rebuild the index and regroup every article; returns what changed."""
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(Article.id, Article.duplicate_of, Article.similarity).order_by(Article.id)
        ).all()
    old = {row.id: (row.duplicate_of, row.similarity) for row in rows}
    groups = _Groups(thresholds)
    for done, chunk in enumerate(_chunks(list(old), BATCH), 1):
        with engine.begin() as conn:
            texts = dict(
                conn.execute(sa.select(Article.id, Article.text).where(Article.id.in_(chunk))).all()
            )
            for article_id in chunk:
                groups.add(conn, article_id, texts.get(article_id) or "")
        log.info("dedupe recheck: %d of %d articles", min(done * BATCH, len(old)), len(old))
    changes = [
        {"row_id": article_id, "duplicate_of": link, "similarity": score}
        for article_id, link, score in groups.links()
        if (link, score) != old[article_id]
    ]
    statement = (
        sa.update(Article)
        .where(Article.id == sa.bindparam("row_id"))
        .values(duplicate_of=sa.bindparam("duplicate_of"), similarity=sa.bindparam("similarity"))
    )
    for chunk in _chunks(changes, BATCH):
        with engine.begin() as conn:
            conn.execute(statement, chunk)
    new = {article_id: link for article_id, link, _ in groups.links()}
    before = {article_id: link for article_id, (link, _) in old.items()}
    return RelinkOutcome(
        articles=len(old),
        kept=sum(1 for i, link in new.items() if link is not None and before[i] == link),
        removed=sum(1 for i, link in before.items() if link is not None and new[i] != link),
        added=sum(1 for i, link in new.items() if link is not None and before[i] != link),
    )


class _Groups:
    """The new grouping, built in arrival order in memory (written once it is complete)."""

    def __init__(self, thresholds: Thresholds) -> None:
        self.thresholds = thresholds
        self.original: dict[int, int] = {}  # article → the original of its group (or itself)
        self.score: dict[int, float | None] = {}
        self.members: defaultdict[int, list[int]] = defaultdict(list)

    def add(self, conn: sa.Connection, article_id: int, text: str) -> None:
        mine = features(text)
        keys = band_keys(mine)
        index_text(conn, article_id, keys)
        near = sharing_keys(conn, article_id, keys, before=True)
        originals = {self.original[m] for m in near if m in self.original}
        grouping = choose_group(mine, load_candidates(conn, originals), self.thresholds)
        for later, first in grouping.merges.items():
            self._merge(conn, later, first)
        self._join(article_id, grouping.original, grouping.similarity)

    def _join(self, article_id: int, original: int | None, score: float | None) -> None:
        self.original[article_id] = original if original is not None else article_id
        self.score[article_id] = score if original is not None else None
        if original is not None:
            self.members[original].append(article_id)

    def _merge(self, conn: sa.Connection, later: int, first: int) -> None:
        """Group `later` joins group `first`: each member verified against `first` again."""
        moving = [later, *self.members.pop(later, [])]
        theirs = load_candidates(conn, [first])[0].features
        for candidate in load_candidates(conn, moving):
            score = verify(candidate.features, theirs, self.thresholds)
            self._join(candidate.article_id, first if score is not None else None, score)

    def links(self) -> Iterator[tuple[int, int | None, float | None]]:
        for article_id, original in self.original.items():
            link = original if original != article_id else None
            yield article_id, link, self.score[article_id]


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
