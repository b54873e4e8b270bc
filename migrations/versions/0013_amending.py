"""amending: a details session in progress on a submitted case, as a plain flag (found without
decrypting every case of the submitter); set from the draft by every save

Revision ID: 0013_amending
Revises: 0012_pages
Create Date: 2026-11-29 20:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_amending'
down_revision: str | None = '0012_pages'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # existing sessions (none before this release: details sessions arrive with it) start unflagged
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amending', sa.Boolean(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('amending')
