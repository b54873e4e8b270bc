"""the "closest to ready" queue order walks an index (readiness, queue time) instead of sorting
every case of the queue

Revision ID: 0014_ready_order
Revises: 0013_amending
Create Date: 2026-11-29 22:40:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0014_ready_order'
down_revision: str | None = '0013_amending'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_cases_readiness_queued', 'cases', ['readiness', 'queued_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_readiness_queued', table_name='cases')
