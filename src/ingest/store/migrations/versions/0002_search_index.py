"""full-text search index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Hand-written, per dialect (autogenerate does not know FTS5 or generated tsvector columns; the
Alembic environment excludes them from comparisons): SQLite gets an external-content FTS5
table kept in sync by triggers, PostgreSQL a generated tsvector column with a GIN index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE article_fts USING fts5(
        title, text, content='article', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
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
    "INSERT INTO article_fts(article_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER article_fts_update",
    "DROP TRIGGER article_fts_delete",
    "DROP TRIGGER article_fts_insert",
    "DROP TABLE article_fts",
]
# A tsvector holds at most 1 MiB: only the first 300,000 characters of a text are indexed
# (about 50,000 words; longer texts are rare and their openings are what people search).
POSTGRES_UP = [
    """ALTER TABLE article ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, left(coalesce(title, ''), 2000)), 'A') ||
        setweight(to_tsvector('simple'::regconfig, left(coalesce(text, ''), 300000)), 'B'))
        STORED""",
    "CREATE INDEX ix_article_search ON article USING gin (search)",
]
POSTGRES_DOWN = ["DROP INDEX ix_article_search", "ALTER TABLE article DROP COLUMN search"]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(POSTGRES_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP)


def downgrade() -> None:
    _run(POSTGRES_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN)
