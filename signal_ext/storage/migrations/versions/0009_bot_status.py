"""bot status: why the service stopped a bot (Telegram refused its token)

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02 01:40:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import processes.timeutil


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bot_status',
    sa.Column('bot', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('since', processes.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('bot')
    )


def downgrade() -> None:
    op.drop_table('bot_status')
