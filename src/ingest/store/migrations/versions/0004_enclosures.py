"""feed entries keep their enclosures; unused robots columns go

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entry") as batch:
        batch.add_column(sa.Column("enclosures", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("host") as batch:
        batch.drop_column("robots_txt")
        batch.drop_column("robots_fetched_at")


def downgrade() -> None:
    with op.batch_alter_table("host") as batch:
        batch.add_column(sa.Column("robots_fetched_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("robots_txt", sa.String(), nullable=True))
    with op.batch_alter_table("entry") as batch:
        batch.drop_column("enclosures")
