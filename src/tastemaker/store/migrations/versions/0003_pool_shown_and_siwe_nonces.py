"""pool_entries.shown; web_siwe_nonces under migrations

``pool_entries.shown`` counts the members a work was shown to in its round, so the
vote page orders the pool by exposure without counting the round's impressions on
every request (filled here from the impressions already recorded).

``web_siwe_nonces`` was created by the web app at start-up; a database that ran the
app already has it, so it is created only where missing.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pool_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shown", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE pool_entries SET shown = (SELECT count(*) FROM impressions"
        " WHERE impressions.round = pool_entries.round"
        " AND impressions.work = pool_entries.work)"
    )
    if "web_siwe_nonces" not in sa.inspect(op.get_bind()).get_table_names():
        op.create_table(
            "web_siwe_nonces",
            sa.Column("nonce", sa.String(length=64), nullable=False),
            sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("nonce"),
        )
        with op.batch_alter_table("web_siwe_nonces", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_web_siwe_nonces_expires_at"), ["expires_at"], unique=False
            )


def downgrade() -> None:
    op.drop_table("web_siwe_nonces")
    with op.batch_alter_table("pool_entries", schema=None) as batch_op:
        batch_op.drop_column("shown")
