"""evidence files in the database (INTAKE_BLOB_URL=database): ciphertext in 1 MiB chunks

Revision ID: 0012_blobs
Revises: 0010_day
Create Date: 2026-11-29 19:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012_blobs'
down_revision: str | None = '0010_day'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'blob_chunks',
        sa.Column('ref', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('ref', 'seq', name=op.f('pk_blob_chunks')),
    )


def downgrade() -> None:
    op.drop_table('blob_chunks')
