"""The full-text index as a condition: "this article matches the query", per dialect.

`Matches(text)` is one SQL expression that compiles to an FTS5 lookup on SQLite and to a
tsquery test on PostgreSQL, so `ArticleFilter(query=…)` works in any select over `article`
without knowing the engine. Ranked search with snippets is `store/search.py`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from ingest.errors import UsageError


def fts5_query(text: str) -> str:
    """Words as quoted FTS5 strings (implicitly ANDed); a trailing * keeps prefix search."""
    terms = []
    for word in text.replace("\x00", " ").split():
        prefix = word.endswith("*") and len(word) > 1
        core = word.rstrip("*") if prefix else word
        terms.append('"' + core.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms)


class Matches(ColumnElement[bool]):
    """`article` matches the search text `text` (compiled per dialect below)."""

    inherit_cache = False
    type = sa.Boolean()

    def __init__(self, text: str) -> None:
        if not text.replace("\x00", " ").strip():
            raise UsageError("empty search query")
        self.text = text


def matching_ids(text: str) -> Matches:
    """The condition an `ArticleFilter.query` adds."""
    return Matches(text)


@compiles(Matches, "sqlite")
def _sqlite(element: Matches, compiler: Any, **kw: Any) -> str:
    inner = sa.text("SELECT rowid FROM article_fts WHERE article_fts MATCH :fts_query").bindparams(
        fts_query=fts5_query(element.text)
    )
    return f"article.id IN ({compiler.process(inner, **kw)})"


@compiles(Matches, "postgresql")
def _postgresql(element: Matches, compiler: Any, **kw: Any) -> str:
    query = sa.func.websearch_to_tsquery(
        sa.literal_column("'simple'::regconfig"), sa.literal(element.text.replace("\x00", " "))
    )
    return f"article.search @@ {compiler.process(query, **kw)}"
