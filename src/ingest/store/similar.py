"""Near-duplicate lookup in the archive: the LSH key index, candidate originals, and links.

The decisions are dedupe.py's pure functions; this module only reads what they need (the
candidates sharing a key, the texts of their group originals) and writes what they decided.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import sqlalchemy as sa

from ingest.dedupe import Candidate, Features, Grouping, Thresholds, choose_group, features, verify
from ingest.store.models import Article, ArticleBand
from ingest.store.rowupdate import update_row

# Built once: every saved page runs them (see store.rowupdate)
_UNINDEX = sa.delete(ArticleBand.__table__).where(
    ArticleBand.article_id == sa.bindparam("article_id")
)
_INDEX = sa.insert(ArticleBand.__table__)
_CANDIDATES = (
    sa.select(sa.func.coalesce(Article.duplicate_of, Article.id))
    .join(ArticleBand, ArticleBand.article_id == Article.id)
    .where(
        ArticleBand.key.in_(sa.bindparam("keys", expanding=True)),
        ArticleBand.article_id != sa.bindparam("article_id"),
    )
    .distinct()
)
_TEXTS = (
    sa.select(Article.id, Article.text)
    .where(Article.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(Article.id)
)


def index_text(conn: sa.Connection, article_id: int, keys: Sequence[int]) -> None:
    """Make `keys` (dedupe.band_keys of its text) the article's entries in the index."""
    conn.execute(_UNINDEX, {"article_id": article_id})
    if keys:
        conn.execute(
            _INDEX,
            [{"article_id": article_id, "band": i, "key": key} for i, key in enumerate(keys)],
        )


def candidate_originals(
    conn: sa.Connection, article_id: int, keys: Sequence[int]
) -> list[Candidate]:
    """The originals of the groups whose members share a key with `keys` (index lookups only),
    earliest first, with their texts' features: what a text is verified against."""
    if not keys:
        return []
    ids = set(conn.execute(_CANDIDATES, {"keys": list(keys), "article_id": article_id}).scalars())
    ids.discard(article_id)
    return load_candidates(conn, ids)


def sharing_keys(
    conn: sa.Connection, article_id: int, keys: Sequence[int], *, before: bool = False
) -> set[int]:
    """Other articles with at least one of these index keys; with `before`, only older ones."""
    if not keys:
        return set()
    query = sa.select(ArticleBand.article_id).where(
        ArticleBand.key.in_(list(keys)), ArticleBand.article_id != article_id
    )
    if before:
        query = query.where(ArticleBand.article_id < article_id)
    return set(conn.execute(query.distinct()).scalars())


def load_candidates(conn: sa.Connection, ids: Collection[int]) -> list[Candidate]:
    """These articles with their texts' features, earliest first."""
    if not ids:
        return []
    rows = conn.execute(_TEXTS, {"ids": list(ids)}).all()
    return [Candidate(row.id, features(row.text)) for row in rows]


def link_article(
    conn: sa.Connection,
    article_id: int,
    mine: Features,
    keys: Sequence[int],
    thresholds: Thresholds,
) -> Grouping:
    """Decide and write the article's group: `duplicate_of` and `similarity` of it, of the
    groups its text proved one story, and of its own members when it joins another group."""
    grouping = choose_group(mine, candidate_originals(conn, article_id, keys), thresholds)
    for later, first in grouping.merges.items():
        _move_group(conn, later, first, thresholds)
    if grouping.original is not None:
        _move_group(conn, article_id, grouping.original, thresholds, leader=False)
    link = {"duplicate_of": grouping.original, "similarity": grouping.similarity}
    update_row(conn, Article, article_id, link)
    return grouping


def _move_group(
    conn: sa.Connection, old: int, new: int, thresholds: Thresholds, *, leader: bool = True
) -> None:
    """Point the group of original `old` (with `old` itself when `leader`) at original `new`.
    Every member is verified against `new`: one that is not a copy of it leaves the group."""
    who = Article.duplicate_of == old
    if leader:
        who = sa.or_(who, Article.id == old)
    rows = conn.execute(sa.select(Article.id, Article.text).where(who)).all()
    if not rows:
        return
    theirs = features(conn.execute(sa.select(Article.text).where(Article.id == new)).scalar_one())
    for row in rows:
        score = verify(features(row.text), theirs, thresholds)
        link = {"duplicate_of": new if score is not None else None, "similarity": score}
        update_row(conn, Article, row.id, link)
