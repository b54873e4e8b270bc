"""pipeline: one inbox for every channel (channel, per-chat order, leases); outbox order and leases

Revision ID: 0003_pipeline
Revises: 0002
Create Date: 2026-11-29 15:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003_pipeline'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=16), server_default='email', nullable=False))
        batch_op.add_column(sa.Column('order_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_inbox_status_order', ['status', 'order_key'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True))
    # staff alerts had one channel ("staff", read by the Telegram worker only); now each destination has its own
    op.execute("UPDATE outbox SET channel = 'staff_telegram' WHERE channel = 'staff'")


def downgrade() -> None:
    op.execute("UPDATE outbox SET channel = 'staff' WHERE channel IN ('staff_telegram', 'staff_email')")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('leased_until')
        batch_op.drop_column('seq')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_status_order')
        batch_op.drop_column('leased_until')
        batch_op.drop_column('seq')
        batch_op.drop_column('order_key')
        batch_op.drop_column('channel')
