"""privacy: legal hold, expiry warnings, tombstones of shredded cases

Revision ID: 0009_privacy
Revises: 0008_audit_chain
Create Date: 2026-11-29 15:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009_privacy'
down_revision: str | None = '0008_audit_chain'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('expiry_warned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('shredded_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('shredded_at')
        batch_op.drop_column('expiry_warned_at')
        batch_op.drop_column('legal_hold')
