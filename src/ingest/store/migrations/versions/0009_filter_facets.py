"""search filters on a narrow table; entries indexed by feed (newest first) and by article

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Issue 12. A filtered search tested every candidate against its `article` row, which holds the
text and HTML: at 100k articles most of a search was spent reading those rows. `article_facet`
holds what the filters test (published, language, host, site name, duplicate_of), one narrow
row per article, kept by triggers so no write path can forget it (like the search index of
0002). The host is cut from the URL in SQL: lower-cased, from after the first `://` to the
first `/`, `:`, `?` or `#` (what `--site` compared with URL patterns before).

Entries: (feed_id, first_seen, id) lists a feed's newest entries without a sort (its page and
Atom feed), (article_id, feed_id) answers "is this article in feed N" with one index lookup.
They replace the single-column indexes they start with.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ingest.store.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "id, published, language, host, site, duplicate_of"
WATCHED = "published, language, sitename, url, canonical_url, duplicate_of"


def _sqlite_host(row: str) -> str:
    url = f"lower(coalesce({row}.canonical_url, {row}.url))"
    rest = f"substr({url}, instr({url}, '://') + 3)"
    stops = f"replace(replace(replace({rest}, ':', '/'), '?', '/'), '#', '/') || '/'"
    return f"CASE WHEN instr({url}, '://') > 0 THEN substr({rest}, 1, instr({stops}, '/') - 1) END"


def _values(row: str, host: str) -> str:
    language, site = f"lower({row}.language)", f"lower({row}.sitename)"
    return f"{row}.id, {row}.published, {language}, {host}, {site}, {row}.duplicate_of"


SQLITE_UP = [
    f"""CREATE TRIGGER article_facet_insert AFTER INSERT ON article BEGIN
        INSERT INTO article_facet ({COLUMNS}) VALUES ({_values("new", _sqlite_host("new"))});
    END""",
    f"""CREATE TRIGGER article_facet_update AFTER UPDATE OF {WATCHED} ON article BEGIN
        UPDATE article_facet SET published = new.published, language = lower(new.language),
            host = {_sqlite_host("new")}, site = lower(new.sitename),
            duplicate_of = new.duplicate_of
        WHERE id = new.id;
    END""",
    f"INSERT INTO article_facet ({COLUMNS}) SELECT {_values('article', _sqlite_host('article'))}"
    " FROM article",
]
SQLITE_DOWN = ["DROP TRIGGER article_facet_update", "DROP TRIGGER article_facet_insert"]

POSTGRES_HOST = "lower(substring(coalesce({0}.canonical_url, {0}.url) from '://([^/:?#]*)'))"
POSTGRES_UP = [
    f"""CREATE FUNCTION ingest_article_facet() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO article_facet ({COLUMNS})
        VALUES ({_values("NEW", POSTGRES_HOST.format("NEW"))})
        ON CONFLICT (id) DO UPDATE SET published = EXCLUDED.published,
            language = EXCLUDED.language, host = EXCLUDED.host, site = EXCLUDED.site,
            duplicate_of = EXCLUDED.duplicate_of;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER article_facet_sync AFTER INSERT OR UPDATE OF {WATCHED} ON article
        FOR EACH ROW EXECUTE FUNCTION ingest_article_facet()""",
    f"INSERT INTO article_facet ({COLUMNS}) "
    f"SELECT {_values('article', POSTGRES_HOST.format('article'))} FROM article",
]
POSTGRES_DOWN = [
    "DROP TRIGGER article_facet_sync ON article",
    "DROP FUNCTION ingest_article_facet()",
]


def upgrade() -> None:
    op.create_table(
        "article_facet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("published", ingest.store.models.UTCDateTime(), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("host", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("site", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_UP if postgres else SQLITE_UP:
        op.execute(statement)
    op.drop_index("ix_entry_feed_id", table_name="entry")
    op.drop_index("ix_entry_article_id", table_name="entry")
    op.create_index("ix_entry_feed_recent", "entry", ["feed_id", "first_seen", "id"])
    op.create_index("ix_entry_article_feed", "entry", ["article_id", "feed_id"])


def downgrade() -> None:
    op.drop_index("ix_entry_article_feed", table_name="entry")
    op.drop_index("ix_entry_feed_recent", table_name="entry")
    op.create_index("ix_entry_article_id", "entry", ["article_id"])
    op.create_index("ix_entry_feed_id", "entry", ["feed_id"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRES_DOWN if postgres else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table("article_facet")
