"""works.media_type

Works are media (bytes plus a media type): ``image/png``, ``text/plain`` or
``text/markdown`` (tastemaker.core.media). Every work stored before this migration
is a PNG image.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("works", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("media_type", sa.String(40), nullable=False, server_default="image/png")
        )


def downgrade() -> None:
    with op.batch_alter_table("works", schema=None) as batch_op:
        batch_op.drop_column("media_type")
