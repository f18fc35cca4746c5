"""`ingest check` on PostgreSQL: what SQLite's `integrity_check`, `foreign_key_check` and FTS5
`integrity-check` tell, asked of PostgreSQL in plain SQL.

- Foreign keys: every reference the models declare, as an anti-join (rows whose parent is
  missing). PostgreSQL enforces its constraints, but not for rows written while they were off
  (`session_replication_role = replica`, a restore without them, a constraint dropped by hand).
- Indexes: none left invalid (a failed `CREATE INDEX CONCURRENTLY`, a broken build).
- The search index: `article.search` is still generated from title and text, and every stored
  tsvector equals what its expression gives now (a text search configuration changed since the
  rows were written leaves them stale: searches then miss them).

Deeper checks of the files themselves (page checksums, B-tree structure) are PostgreSQL's own:
`initdb --data-checksums` and the amcheck extension.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import SQLModel

from ingest.store import models  # noqa: F401  (the tables whose references are checked)

LISTED = 5  # offending values named per problem

_SEARCH = sa.text(
    """SELECT a.attgenerated, pg_get_expr(d.adbin, d.adrelid) AS expression
    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = 'article'::regclass AND a.attname = 'search' AND NOT a.attisdropped"""
)
_INVALID = sa.text(
    """SELECT c.relname FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT i.indisvalid AND n.nspname = current_schema() ORDER BY c.relname"""
)


@dataclass
class Findings:
    """Problems, as lines; and what `repair` may fix safely."""

    problems: list[str]
    invalid_indexes: list[str]
    stale_search: bool


def check_postgres(conn: sa.Connection) -> Findings:
    invalid = list(conn.execute(_INVALID).scalars())
    problems = [f"integrity: index {name} is invalid (repair rebuilds it)" for name in invalid]
    problems += _foreign_keys(conn)
    search = _search_problems(conn)
    return Findings(problems + search, invalid, any("stale" in p for p in search))


def _foreign_keys(conn: sa.Connection) -> list[str]:
    problems = []
    for table in SQLModel.metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            parent = fk.referred_table.alias("parent")
            pairs = [(e.parent, parent.c[e.column.name]) for e in fk.elements]
            missing = sa.and_(
                *(child.is_not(None) for child, _ in pairs),
                ~sa.exists().where(*(child == key for child, key in pairs)),
            )
            child = pairs[0][0]
            count, values = conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.array_agg(sa.distinct(child)),
                ).where(missing)
            ).one()
            if count:
                named = ", ".join(str(v) for v in sorted(values)[:LISTED])
                problems.append(
                    f"foreign key: {count} {table.name} rows point to a missing"
                    f" {fk.referred_table.name} ({child.name} {named})"
                )
    return problems


def _search_problems(conn: sa.Connection) -> list[str]:
    row = conn.execute(_SEARCH).first()
    if row is None:
        return ["search index: article has no search column"]
    if row.attgenerated != "s":
        return ["search index: article.search is no longer generated from title and text"]
    count, ids = conn.execute(_stale(row.expression, "count(*), (array_agg(id ORDER BY id))")).one()
    if not count:
        return []
    named = ", ".join(str(i) for i in ids[:LISTED])
    return [
        f"search index: {count} articles are stale, their stored words differ from their text"
        f" (article {named}; repair recomputes them)"
    ]


def _stale(expression: str, what: str) -> sa.TextClause:
    """Articles whose stored tsvector is not what the column's own expression gives now."""
    return sa.text(f"SELECT {what} FROM article WHERE search IS DISTINCT FROM ({expression})")


def repair_postgres(conn: sa.Connection, findings: Findings) -> list[str]:
    """Rebuild invalid indexes, recompute stale search vectors; what was done, as lines.
    Foreign-key problems are left: which side is wrong is for a person to decide."""
    done = []
    for name in findings.invalid_indexes:
        conn.execute(sa.text(f'REINDEX INDEX "{name}"'))
        done.append(f"index {name} rebuilt")
    if findings.stale_search:
        expression = conn.execute(_SEARCH).one().expression
        # an update of a row recomputes its stored generated columns
        stale = f"UPDATE article SET title = title WHERE search IS DISTINCT FROM ({expression})"
        done.append(f"{conn.execute(sa.text(stale)).rowcount} search vectors recomputed")
    return done
