"""day: staff opt-in to email notifications (a reply on my case, a case assigned to me)

Revision ID: 0010_day
Revises: 0009_privacy
Create Date: 2026-11-29 16:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010_day'
down_revision: str | None = '0004_casework'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_email', sa.Boolean(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('notify_email')
