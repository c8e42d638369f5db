"""Projects choose how work is handed out: ``auto`` (anyone takes the next open slot) or ``explicit``
(an annotator gets only the slots an admin reserved for them). The per-user index gains
``record_id``, so the first slot reserved for a user in record order is an index range scan (without
it SQLite's planner scanned every open slot of the project for it: 8 ms at 60,000 slots).

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
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_user")
        batch_op.create_index("ix_assignments_user", ["project_id", "user_id", "state", "record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_user")
        batch_op.create_index("ix_assignments_user", ["project_id", "user_id", "state"], unique=False)
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("assignment")
