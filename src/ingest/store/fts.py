"""The search indexes as SQL conditions: a parsed `Query` (store/query.py), per dialect.

Two indexes answer a query. The word index (SQLite FTS5 `article_fts` with unicode61;
PostgreSQL's generated `search` tsvector) finds words; the substring index (SQLite FTS5
`article_cjk` with the trigram tokenizer, holding only articles in unspaced scripts;
PostgreSQL pg_trgm over `ingest_unspaced(title, text)`) finds Chinese, Japanese, Thai or Korean
words inside running text (migration 0006). `plan` splits a query between them: the groups of
spaced words become one word-index expression (the one a ranked search is driven by and ranks
with), everything else a condition. `Matches(query)` is the whole query as one condition for
any select over `article` (filters, exports), compiled per dialect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from ingest.store.models import Article
from ingest.store.query import Query, Term, lower_words, parse

TRIGRAM = 3  # the substring index needs this many characters; shorter ones are scanned for

_SIMPLE = sa.literal_column("'simple'::regconfig")  # language-neutral: a multilingual archive
WORDS_SQLITE = sa.table("article_fts", sa.column("rowid"))
UNSPACED_SQLITE = sa.table("article_cjk", sa.column("rowid"))


@dataclass(frozen=True, slots=True)
class Plan:
    """`words`: the word-index expression (FTS5 text or a tsquery), None when the query has no
    group of spaced words only; `conditions`: the rest, all required."""

    words: str | ColumnElement[Any] | None
    conditions: tuple[ColumnElement[bool], ...]


def plan(query: Query, dialect: str) -> Plan:
    """How `dialect` answers `query`."""
    compile_ = _Postgres() if dialect == "postgresql" else _Sqlite()
    spaced = [group for group in query.all_of if all(t.substring is None for t in group)]
    others = [group for group in query.all_of if group not in spaced]
    conditions = [compile_.group(group) for group in others]
    words = compile_.words(spaced, [t for t in query.none_of if t.substring is None])
    if words is None:
        conditions += [~compile_.group((term,)) for term in query.none_of if not term.substring]
    conditions += [~compile_.group((term,)) for term in query.none_of if term.substring]
    return Plan(words, tuple(conditions))


class _Sqlite:
    def words(self, groups: list[tuple[Term, ...]], excluded: list[Term]) -> str | None:
        if not groups:
            return None
        found = " AND ".join(self._any(group) for group in groups)
        return found + "".join(f" NOT {self._any((term,))}" for term in excluded)

    def group(self, group: tuple[Term, ...]) -> ColumnElement[bool]:
        spaced = [t for t in group if t.substring is None]
        indexed = [t for t in group if t.substring and len(t.substring) >= TRIGRAM]
        short = [t for t in group if t.substring and len(t.substring) < TRIGRAM]
        either: list[ColumnElement[bool]] = []
        if spaced:
            either.append(self.in_index(WORDS_SQLITE, self._any(tuple(spaced))))
        if indexed:
            either.append(self.in_index(UNSPACED_SQLITE, self._any(tuple(indexed))))
        either += [_contains(term.substring or "") for term in short]
        return sa.or_(*either)

    @staticmethod
    def in_index(table: sa.TableClause, expression: str) -> ColumnElement[bool]:
        index = sa.literal_column(table.name)
        return Article.id.in_(sa.select(table.c.rowid).where(index.op("MATCH")(expression)))

    @staticmethod
    def _any(terms: tuple[Term, ...]) -> str:
        return "(" + " OR ".join(_fts5(term) for term in terms) + ")"


def _fts5(term: Term) -> str:
    """One term as an FTS5 string: only letters, digits and spaces inside the quotes."""
    if term.substring is not None:
        return '"' + term.substring.replace('"', '""') + '"'
    return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")


def _contains(text: str) -> ColumnElement[bool]:
    """A substring too short for the trigram index: scanned for (bounded by the time limit)."""
    pattern = "%" + _like_escape(text) + "%"
    return sa.or_(
        sa.func.lower(Article.title).like(pattern, escape="\\"),
        sa.func.lower(Article.text).like(pattern, escape="\\"),
    )


class _Postgres:
    def words(
        self, groups: list[tuple[Term, ...]], excluded: list[Term]
    ) -> ColumnElement[Any] | None:
        if not groups:
            return None
        found = self._all([self._any(group) for group in groups])
        for term in excluded:
            found = sa.func.tsquery_and(found, sa.func.tsquery_not(self._tsquery(term)))
        return found

    def group(self, group: tuple[Term, ...]) -> ColumnElement[bool]:
        spaced = tuple(t for t in group if t.substring is None)
        either: list[ColumnElement[bool]] = []
        if spaced:
            either.append(sa.literal_column("article.search").op("@@")(self._any(spaced)))
        either += [
            sa.func.ingest_unspaced(Article.title, Article.text).like(
                "%" + _like_escape(t.substring) + "%", escape="\\"
            )
            for t in group
            if t.substring is not None
        ]
        return sa.or_(*either)

    def _any(self, terms: tuple[Term, ...]) -> ColumnElement[Any]:
        found = self._tsquery(terms[0])
        for term in terms[1:]:
            found = sa.func.tsquery_or(found, self._tsquery(term))
        return found

    @staticmethod
    def _all(queries: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        found = queries[0]
        for query in queries[1:]:
            found = sa.func.tsquery_and(found, query)
        return found

    @staticmethod
    def _tsquery(term: Term) -> ColumnElement[Any]:
        """PostgreSQL's own parser reads the term (so it splits it as it split the text);
        a prefix is spelled from our words, which hold only letters and digits."""
        if not term.prefix:
            return sa.func.phraseto_tsquery(_SIMPLE, term.raw)
        words = [f"'{word}'" for word in lower_words(term.raw.rstrip("*"))]
        return sa.func.to_tsquery(_SIMPLE, " <-> ".join(words) + ":*")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Matches(ColumnElement[bool]):
    """`article` matches the search text (parsed on creation: a bad query fails here, not
    when the statement runs); compiled for the dialect at hand."""

    inherit_cache = False
    type = sa.Boolean()

    def __init__(self, text: str) -> None:
        self.query = parse(text)


@compiles(Matches)
def _compile(element: Matches, compiler: Any, **kw: Any) -> str:
    found = plan(element.query, compiler.dialect.name)
    conditions = list(found.conditions)
    if isinstance(found.words, str):
        conditions.append(_Sqlite.in_index(WORDS_SQLITE, found.words))
    elif found.words is not None:
        conditions.append(sa.literal_column("article.search").op("@@")(found.words))
    return compiler.process(sa.and_(*conditions), **kw)
