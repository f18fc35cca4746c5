"""The filter facets (`article_facet`, one narrow row per article kept by triggers) checked
against the articles, and re-derived where they drifted: a facet row missing or stale would
silently drop its article from filtered searches, so `ingest check` looks and `--repair` fixes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from ingest.store.models import Article, ArticleFacet

CHUNK = 500


def stale_facets(conn: sa.Connection) -> list[int]:
    """Articles whose facet row is missing or says other than the article (the host, derived
    from the URL by the trigger, aside)."""
    differs = sa.or_(
        ArticleFacet.id.is_(None),
        ArticleFacet.published.is_distinct_from(Article.published),
        ArticleFacet.language.is_distinct_from(sa.func.lower(Article.language)),
        ArticleFacet.site.is_distinct_from(sa.func.lower(Article.sitename)),
        ArticleFacet.duplicate_of.is_distinct_from(Article.duplicate_of),
    )
    query = (
        sa.select(Article.id)
        .outerjoin(ArticleFacet, ArticleFacet.id == Article.id)
        .where(differs)
        .order_by(Article.id)
    )
    return list(conn.execute(query).scalars())


def resync_facets(conn: sa.Connection, ids: Sequence[int]) -> int:
    """Re-derive the facet rows of `ids` with the triggers' own expressions: a missing row is
    created empty, then a no-op update of the article fires the trigger that fills it."""
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        present = set(
            conn.execute(sa.select(ArticleFacet.id).where(ArticleFacet.id.in_(chunk))).scalars()
        )
        missing = [{"id": i} for i in chunk if i not in present]
        if missing:
            conn.execute(sa.insert(ArticleFacet), missing)
        conn.execute(sa.update(Article).where(Article.id.in_(chunk)).values(url=Article.url))
    return len(ids)
