"""search: prefix index, a substring index for unspaced scripts, CJK word counts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Issue 10. SQLite: the word index is rebuilt with a prefix index (`prefix='3'`; shorter
prefixes are refused by the query parser), so `zeta*` reads one list instead of merging every
word that starts so; a trigram FTS5 table `article_cjk` holds the articles written in scripts
without spaces (Chinese, Japanese, Thai, Korean), so a word is found inside running text.
PostgreSQL: the same substring index with pg_trgm over `ingest_unspaced(title, text)` (NULL
for other articles, so they cost the index nothing). Both: `word_count` of those articles
counts characters. Hand-written per dialect, excluded from autogenerate like 0002.
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The unspaced scripts as of this migration (ingest/unspaced.py may grow; this must not change)
CLASS = (
    "[\u0e00-\u0e7f\u1100-\u11ff\u3001-\u30ff\u3100-\u312f\u3130-\u318f"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]"
)
SQLITE_HAS = "(coalesce({0}.title, '') || ' ' || {0}.text) GLOB '*" + CLASS + "*'"

_FTS_TRIGGERS = [
    """CREATE TRIGGER article_fts_insert AFTER INSERT ON article BEGIN
        INSERT INTO article_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    """CREATE TRIGGER article_fts_delete AFTER DELETE ON article BEGIN
        INSERT INTO article_fts(article_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END""",
    """CREATE TRIGGER article_fts_update AFTER UPDATE OF title, text ON article BEGIN
        INSERT INTO article_fts(article_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO article_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
]
_DROP_FTS = [
    "DROP TRIGGER article_fts_update",
    "DROP TRIGGER article_fts_delete",
    "DROP TRIGGER article_fts_insert",
    "DROP TABLE article_fts",
]


def _fts(prefix: str) -> list[str]:
    """The word index of 0002, with `prefix` options."""
    return [
        f"""CREATE VIRTUAL TABLE article_fts USING fts5(
            title, text, content='article', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'{prefix})""",
        *_FTS_TRIGGERS,
        "INSERT INTO article_fts(article_fts) VALUES ('rebuild')",
    ]


# External content: a row may be deleted from the index only if it is in it, so every
# trigger asks the same question of the row it removes as of the row it adds.
SQLITE_UP = [
    *_DROP_FTS,
    *_fts(", prefix='3'"),
    """CREATE VIRTUAL TABLE article_cjk USING fts5(
        title, text, content='article', content_rowid='id', tokenize='trigram')""",
    f"""CREATE TRIGGER article_cjk_insert AFTER INSERT ON article
        WHEN {SQLITE_HAS.format("new")} BEGIN
        INSERT INTO article_cjk(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    f"""CREATE TRIGGER article_cjk_delete AFTER DELETE ON article
        WHEN {SQLITE_HAS.format("old")} BEGIN
        INSERT INTO article_cjk(article_cjk, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END""",
    f"""CREATE TRIGGER article_cjk_update_old AFTER UPDATE OF title, text ON article
        WHEN {SQLITE_HAS.format("old")} BEGIN
        INSERT INTO article_cjk(article_cjk, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END""",
    f"""CREATE TRIGGER article_cjk_update_new AFTER UPDATE OF title, text ON article
        WHEN {SQLITE_HAS.format("new")} BEGIN
        INSERT INTO article_cjk(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    f"""INSERT INTO article_cjk(rowid, title, text)
        SELECT id, title, text FROM article WHERE {SQLITE_HAS.format("article")}""",
]
SQLITE_DOWN = [
    "DROP TRIGGER article_cjk_update_new",
    "DROP TRIGGER article_cjk_update_old",
    "DROP TRIGGER article_cjk_delete",
    "DROP TRIGGER article_cjk_insert",
    "DROP TABLE article_cjk",
    *_DROP_FTS,
    *_fts(""),
]
# Only the first 300,000 characters, as for the tsvector (0002).
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"""CREATE FUNCTION ingest_unspaced(title text, body text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN (coalesce(title, '') || ' ' || coalesce(body, '')) ~ '{CLASS}'
        THEN lower(coalesce(title, '') || ' ' || left(coalesce(body, ''), 300000)) END $$""",
    """CREATE INDEX ix_article_unspaced ON article
        USING gin (ingest_unspaced(title, text) gin_trgm_ops)""",
]
POSTGRES_DOWN = ["DROP INDEX ix_article_unspaced", "DROP FUNCTION ingest_unspaced(text, text)"]


def _count_words(text: str) -> int:
    """One per unspaced character, else space-separated words (ingest.unspaced, frozen)."""
    spaced, characters = re.subn(CLASS, " ", text)
    return characters + len(spaced.split())


def _recount(where: str) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, text FROM article WHERE {where}")).all()
    if rows:
        bind.execute(
            sa.text("UPDATE article SET word_count = :n WHERE id = :id"),
            [{"id": row.id, "n": _count_words(row.text)} for row in rows],
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_UP:
            op.execute(statement)
        _recount(f"text ~ '{CLASS}'")
    else:
        for statement in SQLITE_UP:
            op.execute(statement)
        _recount(f"text GLOB '*{CLASS}*'")


def downgrade() -> None:
    statements = POSTGRES_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN
    for statement in statements:
        op.execute(statement)
