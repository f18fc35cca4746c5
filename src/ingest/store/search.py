"""Full-text search: SQLite FTS5 (bm25) or PostgreSQL tsvector + GIN (ts_rank), one interface.

The index is kept in sync by the database itself (FTS5 triggers; a generated tsvector column),
created by migration 0002, so no code path can forget to update it. User input is never
passed raw to the query language: FTS5 gets each word quoted, PostgreSQL gets
`websearch_to_tsquery`, which accepts any string. Which articles count (feeds, dates,
language, site, duplicates) is an `ArticleFilter`, shared with listings and exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ingest.errors import UsageError
from ingest.store.engine import reading
from ingest.store.filters import ArticleFilter, apply_filter
from ingest.store.fts import fts5_query
from ingest.store.models import Article

SNIPPET_WORDS = 16


@dataclass(frozen=True, slots=True)
class Hit:
    id: int
    title: str | None
    published: datetime | None
    url: str | None
    snippet: str
    rank: float


def search(
    engine: Engine, text: str, *, limit: int = 20, keep: ArticleFilter | None = None
) -> list[Hit]:
    """Articles matching all words of `text` and kept by `keep`, best first."""
    if not text.replace("\x00", " ").strip():
        raise UsageError("empty search query")
    url = sa.func.coalesce(Article.canonical_url, Article.url)
    query = _postgres(text) if engine.dialect.name == "postgresql" else _sqlite(text)
    query = query.add_columns(Article.id, Article.title, Article.published, url.label("url"))
    query = apply_filter(query, keep or ArticleFilter())
    with reading(engine) as conn:
        rows = conn.execute(query.limit(limit)).all()
    return [Hit(r.id, r.title, r.published, r.url, r.snippet, float(r.rank)) for r in rows]


def _sqlite(text: str) -> sa.Select[tuple[str, float]]:
    fts = sa.table("article_fts", sa.column("rowid"))
    index = sa.literal_column("article_fts")
    rank = sa.func.bm25(index, 10.0, 1.0).label("rank")  # title weighs 10x the body
    return (
        sa.select(sa.func.snippet(index, 1, "[", "]", "…", SNIPPET_WORDS).label("snippet"), rank)
        .select_from(fts.join(Article, Article.id == fts.c.rowid))
        .where(index.op("MATCH")(fts5_query(text)))
        .order_by(rank)
    )


def _postgres(text: str) -> sa.Select[tuple[str, float]]:
    config = sa.literal_column(
        "'simple'::regconfig"
    )  # language-neutral: the archive is multilingual
    query = sa.func.websearch_to_tsquery(config, text.replace("\x00", " "))
    vector = sa.literal_column("article.search")
    options = f"StartSel=[, StopSel=], MaxWords={SNIPPET_WORDS}, MinWords=8"
    rank = sa.func.ts_rank(vector, query).label("rank")
    return (
        sa.select(sa.func.ts_headline(config, Article.text, query, options).label("snippet"), rank)
        .select_from(Article)
        .where(vector.op("@@")(query))
        .order_by(rank.desc())
    )


def is_index_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic `include_object` hook: the search index is hand-made per dialect (migration
    0002), so autogenerate must neither create nor drop it."""
    if type_ == "table" and name and name.startswith("article_fts"):
        return False
    return not (type_ in ("column", "index") and name in ("search", "ix_article_search"))
