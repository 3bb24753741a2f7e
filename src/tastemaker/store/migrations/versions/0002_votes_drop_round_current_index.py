"""votes: drop the (round, current) index

SQLite's planner chose ix_votes_round_current for "this voter's current votes in
this round", scanning every current vote of the round on each vote taken in (intake
slowed as a round filled up). ix_votes_round_voter_work serves that lookup, and its
round prefix serves reading a whole round at close, so the index had no other use.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.drop_index("ix_votes_round_current")


def downgrade() -> None:
    with op.batch_alter_table("votes", schema=None) as batch_op:
        batch_op.create_index("ix_votes_round_current", ["round", "current"], unique=False)
