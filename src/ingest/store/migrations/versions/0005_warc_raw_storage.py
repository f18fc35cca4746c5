"""raw responses live in WARC files (the database keeps where); feeds keep their OPML folders

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ingest.store.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCES = (("fetch_log", "raw_id"), ("article", "page_raw_id"))


def upgrade() -> None:
    op.create_table(
        "raw_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("warc_file", sa.String(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("payload_digest", sa.String(), nullable=True),
        sa.Column("record_type", sa.String(), nullable=False),
        sa.Column("refers_to", sa.Integer(), nullable=True),
        sa.Column("uri", sa.String(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("fetched_at", ingest.store.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["refers_to"], ["raw_response.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("warc_file", "payload_digest", "refers_to", "fetched_at"):
        op.create_index(f"ix_raw_response_{column}", "raw_response", [column])
    op.add_column("feed", sa.Column("folders", sa.JSON(), nullable=False, server_default="[]"))
    for table, column in REFERENCES:
        if op.get_bind().dialect.name == "sqlite":
            # in place: a batch copy of the table would drop the article's search triggers
            # and, with foreign keys on, cascade the drop to its revisions
            op.execute(
                f"ALTER TABLE {table} ADD COLUMN {column} INTEGER REFERENCES raw_response (id)"
            )
        else:
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(f"fk_{table}_{column}", table, "raw_response", [column], ["id"])
        op.create_index(f"ix_{table}_{column}", table, [column])


def downgrade() -> None:
    for table, column in REFERENCES:
        op.drop_index(f"ix_{table}_{column}", table)
        op.drop_column(table, column)
    op.drop_column("feed", "folders")
    op.drop_table("raw_response")
