"""page work (due time, attempts, lease) moves from article to its own narrow table

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

Claims and lease renewals used to rewrite whole article rows (text, html) for a lease; now
they touch `page_queue` only. Every article gets its row, with the values it had.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import ingest.store.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOVED = ("next_check_at", "lease_owner", "lease_until", "check_count", "retry_count")


def upgrade() -> None:
    op.create_table(
        "page_queue",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("due_at", ingest.store.models.UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("lease_until", ingest.store.models.UTCDateTime(), nullable=True),
        sa.Column("check_count", sa.Integer(), nullable=False),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id"),
    )
    op.execute(
        "INSERT INTO page_queue (article_id, due_at, lease_owner, lease_until, check_count,"
        " retry_count) SELECT id, next_check_at, lease_owner, lease_until, check_count,"
        " retry_count FROM article"
    )
    op.create_index(op.f("ix_page_queue_due_at"), "page_queue", ["due_at"], unique=False)
    op.create_index(op.f("ix_page_queue_lease_owner"), "page_queue", ["lease_owner"], unique=False)
    # ALTER TABLE … DROP COLUMN in place (SQLite ≥ 3.35), as in 0008 (and 0009): a batch copy of the
    # table would drop the full-text search triggers on it
    op.drop_index(op.f("ix_article_next_check_at"), table_name="article")
    for column in MOVED:
        op.execute(f"ALTER TABLE article DROP COLUMN {column}")


def downgrade() -> None:
    for column, kind, default in (
        ("next_check_at", ingest.store.models.UTCDateTime(), None),
        ("lease_owner", sqlmodel.sql.sqltypes.AutoString(), None),
        ("lease_until", ingest.store.models.UTCDateTime(), None),
        ("check_count", sa.Integer(), "0"),
        ("retry_count", sa.Integer(), "0"),
    ):
        nullable = default is None
        op.add_column("article", sa.Column(column, kind, nullable=nullable, server_default=default))
    op.create_index(op.f("ix_article_next_check_at"), "article", ["next_check_at"], unique=False)
    op.execute(
        "UPDATE article SET (next_check_at, lease_owner, lease_until, check_count, retry_count)"
        " = (SELECT due_at, lease_owner, lease_until, check_count, retry_count FROM page_queue"
        " WHERE page_queue.article_id = article.id)"
        " WHERE id IN (SELECT article_id FROM page_queue)"
    )
    op.drop_table("page_queue")
