"""rounds.votes_to_flip

How close a closed round's vote was (``core.flip``): the fewest counted votes found
whose removal changes the winner, with the votes it removes. Written at close, shown
on the round page, exported in the public record and recomputed by ``verify``.
Rounds closed before this migration keep it empty.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("votes_to_flip", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("votes_to_flip")
