"""outbox integrity: a retry keeps the message's place, delivered parts are remembered, a chat's rows are indexed

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-02 01:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import processes.timeutil


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_at', processes.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('delivered_parts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_outbox_chat', ['address', 'channel', 'status', 'send_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_chat')
        batch_op.drop_column('delivered_parts')
        batch_op.drop_column('retry_at')
