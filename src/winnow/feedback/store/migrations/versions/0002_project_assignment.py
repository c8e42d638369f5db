"""Projects choose how work is handed out: ``auto`` (anyone takes the next open slot) or ``explicit``
(an annotator gets only the slots an admin reserved for them).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignment", sa.String(length=16), nullable=False, server_default="auto"))


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("assignment")
