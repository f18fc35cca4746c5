"""raw responses keep their WARC-Record-ID and WARC-Truncated

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

Issue 8. A 304 is archived as a revisit naming the record it confirms (`WARC-Refers-To`), and a
revisit never refers to a record cut short. Both facts were read back from the WARC file, one
file read per 304: a re-poll of 500 unchanged feeds read 500 record heads. The row now says
them. Rows written before this revision have neither (NULL); for those the head is still read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("raw_response") as batch:
        batch.add_column(sa.Column("record_id", sa.String(), nullable=True))
        batch.add_column(sa.Column("truncated", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("raw_response") as batch:
        batch.drop_column("truncated")
        batch.drop_column("record_id")
