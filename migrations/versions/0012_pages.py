"""pages: the queue paged by the database (queue time, thread activity, plain facets) and the
blind search index (case_terms); backfills what SQL can (the terms need keys: `intake review reindex`)

Revision ID: 0012_pages
Revises: 0012_blobs
Create Date: 2026-11-29 19:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_pages'
down_revision: str | None = '0012_blobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_out_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('readiness', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('danger', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('consent', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('search_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('need_rank', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('waiting_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_cases_need_rank_waiting', ['need_rank', 'waiting_at'], unique=False)
        batch_op.create_index('ix_cases_status_shredded_queued', ['status', 'shredded_at', 'queued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_queued_at'), ['queued_at'], unique=False)
    op.create_table(
        'case_terms',
        sa.Column('case_id', sa.String(length=32), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('term', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_terms_case_id_cases')),
        sa.PrimaryKeyConstraint('case_id', 'source', 'term', name=op.f('pk_case_terms')),
    )
    op.create_index('ix_case_terms_term_case', 'case_terms', ['term', 'case_id'], unique=False)
    # backfill what needs no key: the queue time and the thread's latest verified message each way
    op.execute("UPDATE cases SET queued_at = COALESCE(submitted_at, created_at)")
    for column, direction in (("last_in_at", "in"), ("last_out_at", "out")):
        op.execute(
            f"UPDATE cases SET {column} = (SELECT MAX(m.created_at) FROM messages m WHERE m.case_id = cases.id "  # noqa: S608 - constants
            f"AND m.direction = '{direction}' AND m.verified AND m.kind != 'first_message')"
        )
    new_reply = "(last_in_at IS NOT NULL AND (last_out_at IS NULL OR last_in_at > last_out_at))"
    op.execute(f"UPDATE cases SET need_rank = CASE WHEN {new_reply} THEN 2 ELSE 3 END, "  # noqa: S608 - constants
               f"waiting_at = CASE WHEN {new_reply} THEN last_in_at ELSE queued_at END")


def downgrade() -> None:
    op.drop_index('ix_case_terms_term_case', table_name='case_terms')
    op.drop_table('case_terms')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_queued_at'))
        batch_op.drop_index('ix_cases_status_shredded_queued')
        batch_op.drop_index('ix_cases_need_rank_waiting')
        batch_op.drop_column('waiting_at')
        batch_op.drop_column('need_rank')
        batch_op.drop_column('search_key')
        batch_op.drop_column('consent')
        batch_op.drop_column('danger')
        batch_op.drop_column('readiness')
        batch_op.drop_column('last_out_at')
        batch_op.drop_column('last_in_at')
        batch_op.drop_column('queued_at')

