"""clean copies of evidence files: a second blob without metadata, served to staff by default

Revision ID: 0011_clean_copies
Revises: 0009_privacy
Create Date: 2026-11-29 16:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011_clean_copies'
down_revision: str | None = '0009_privacy'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clean_blob_ref', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('clean_removed', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('clean_removed')
        batch_op.drop_column('clean_blob_ref')
