"""near-duplicate index of MinHash LSH keys over word shingles; word SimHash columns go

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

The new index starts empty: `ingest dedupe --recheck` fills it for the articles already
archived and re-evaluates their `duplicate_of` links with the verified rule.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_band",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("article_id", "band"),
    )
    op.create_index(op.f("ix_article_band_key"), "article_band", ["key"], unique=False)
    # ALTER TABLE … DROP COLUMN in place (SQLite ≥ 3.35): a batch copy of the table would
    # drop the full-text search triggers on it (0002)
    for band in range(4):
        op.drop_index(op.f(f"ix_article_band{band}"), table_name="article")
    for column in ("band0", "band1", "band2", "band3", "simhash"):
        op.execute(f"ALTER TABLE article DROP COLUMN {column}")


def downgrade() -> None:
    op.add_column("article", sa.Column("simhash", sa.BigInteger(), nullable=True))
    for band in range(4):
        op.add_column("article", sa.Column(f"band{band}", sa.Integer(), nullable=True))
        op.create_index(op.f(f"ix_article_band{band}"), "article", [f"band{band}"], unique=False)
    op.drop_index(op.f("ix_article_band_key"), table_name="article_band")
    op.drop_table("article_band")
