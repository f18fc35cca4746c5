"""Ranked full-text search with bounded cost, the same syntax and results on both engines.

SQLite ranks with FTS5 bm25 (title weighs 10x the body), PostgreSQL with ts_rank over its
generated tsvector; the indexes are kept in sync by the database itself (migrations 0002,
0006). The query is parsed by `store/query.py` (never passed raw), split between the word and
substring indexes by `store/fts.py`, narrowed by an `ArticleFilter`, and highlighted by
`highlight.py`.

Cost is bounded three ways (issue 10): the parser caps terms and prefix lengths; only the
CANDIDATES newest matching articles are ranked (a word found in half a million articles costs
no more than one found in ten thousand: results are the best of those, exact whenever fewer
match); and each statement has a time limit, after which the search fails with
QueryTooCostly instead of holding a CPU or the API.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from ingest.errors import QueryTooCostly, UsageError
from ingest.highlight import Span, find, passage
from ingest.store.engine import reading
from ingest.store.filters import ArticleFilter, apply_filter
from ingest.store.fts import WORDS_SQLITE, plan
from ingest.store.models import Article
from ingest.store.query import Query, parse

CANDIDATES = 2_000
TIME_LIMIT = 2.0  # seconds per statement
_PROGRESS_STEPS = 20_000  # SQLite VM instructions between two looks at the clock


@dataclass(frozen=True, slots=True)
class Hit:
    """One result. `matches` are [start, end) character offsets of the query's terms in
    `snippet`, `title_matches` in `title`; `rank` is higher for better matches."""

    id: int
    title: str | None
    published: datetime | None
    url: str | None
    snippet: str
    matches: tuple[Span, ...]
    title_matches: tuple[Span, ...]
    rank: float

    @property
    def cursor(self) -> str:
        """Where the next page starts: pass it back as `after`."""
        return f"{self.rank!r}:{self.id}"


@dataclass(frozen=True, slots=True)
class Cursor:
    rank: float
    id: int

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """A `Hit.cursor` string; UsageError for anything else."""
        rank, _, ident = text.partition(":")
        try:
            found = cls(float(rank), int(ident))
        except ValueError:
            raise UsageError(f"not a search cursor: {text[:40]!r}") from None
        if not math.isfinite(found.rank) or found.id < 0:
            raise UsageError(f"not a search cursor: {text[:40]!r}")
        return found


def search(
    engine: Engine,
    text: str,
    *,
    limit: int = 20,
    keep: ArticleFilter | None = None,
    after: Cursor | None = None,
    time_limit: float = TIME_LIMIT,
) -> list[Hit]:
    """Articles matching `text` (see store/query.py) and kept by `keep`, best first; with
    `after`, the page that follows that hit (keyset pagination on (rank, id))."""
    query = parse(text)
    ranked = _ranked(query, engine.dialect.name, keep or ArticleFilter())
    rank, ident = ranked.c.rank, ranked.c.id
    page = sa.select(ident, rank).order_by(rank.desc(), ident.desc()).limit(limit)
    if after is not None:
        page = page.where(sa.or_(rank < after.rank, sa.and_(rank == after.rank, ident < after.id)))
    with reading(engine) as conn, _time_limit(conn, time_limit):
        order = conn.execute(page).all()
        rows = {
            row.id: row
            for row in conn.execute(
                sa.select(
                    Article.id,
                    Article.title,
                    Article.published,
                    Article.text,
                    sa.func.coalesce(Article.canonical_url, Article.url).label("url"),
                ).where(Article.id.in_([r.id for r in order]))
            )
        }
    return [_hit(rows[r.id], float(r.rank), query) for r in order]


def _ranked(query: Query, dialect: str, keep: ArticleFilter) -> sa.Subquery:
    """(id, rank) of the CANDIDATES newest articles matching `query` and kept by `keep`.

    On SQLite the word index drives and the filters test each candidate's narrow facet row
    (store/filters.py): the wide article row is read only for substring terms."""
    found = plan(query, dialect)
    ident: Any = Article.id
    if found.words is None:  # substring terms only (e.g. Chinese): newest first
        ranked = sa.select(Article.id, sa.literal(0.0).label("rank"))
    elif dialect == "postgresql":
        vector = sa.literal_column("article.search")
        # as float8: a float4 read back as text would not compare equal in a cursor
        rank = sa.cast(sa.func.ts_rank(vector, found.words), sa.Double())
        ranked = sa.select(Article.id, rank.label("rank"))
        ranked = ranked.where(vector.op("@@")(found.words))
    else:
        index = sa.literal_column("article_fts")
        ident = WORDS_SQLITE.c.rowid  # the index's own order: no sort
        rank = (-sa.func.bm25(index, 10.0, 1.0)).label("rank")
        ranked = sa.select(ident.label("id"), rank).where(index.op("MATCH")(found.words))
        if found.conditions:  # substring terms are tested on the article itself
            ranked = ranked.where(Article.id == ident)
    ranked = apply_filter(ranked.where(*found.conditions), keep, on=ident)
    return ranked.order_by(ident.desc()).limit(CANDIDATES).subquery("ranked")


def _hit(row: Any, rank: float, query: Query) -> Hit:
    shown = passage(row.text or "", query)
    title_matches = tuple(find(row.title, query)) if row.title else ()
    return Hit(
        row.id, row.title, row.published, row.url, shown.text, shown.spans, title_matches, rank
    )


@contextmanager
def _time_limit(conn: sa.Connection, seconds: float) -> Iterator[None]:
    """Stop any statement of this block after `seconds`: a SQLite progress handler or a
    PostgreSQL `statement_timeout` (both abort the statement, not the process)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}")
        raw = None
    else:
        raw = conn.connection.driver_connection
        deadline = time.monotonic() + seconds
        raw.set_progress_handler(lambda: time.monotonic() > deadline, _PROGRESS_STEPS)
    try:
        yield
    except OperationalError as exc:
        if _interrupted(exc):
            raise QueryTooCostly(
                f"search stopped after {seconds:g} s: make the query more specific "
                "(longer prefixes, fewer OR terms, or a filter such as --feed or --since)"
            ) from None
        raise
    finally:
        if raw is not None:
            raw.set_progress_handler(None, 0)


def _interrupted(exc: OperationalError) -> bool:
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "57014" or "interrupted" in str(orig)


def is_index_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic `include_object` hook: the search indexes are hand-made per dialect
    (migrations 0002, 0006), so autogenerate must neither create nor drop them."""
    if type_ == "table" and name and name.startswith(("article_fts", "article_cjk")):
        return False
    hand_made = ("search", "ix_article_search", "ix_article_unspaced")
    return not (type_ in ("column", "index") and name in hand_made)
