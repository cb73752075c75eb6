"""collections per bot

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Records written before collections were per bot stay visible to every bot: their bot is NULL (shared).
    with op.batch_alter_table('collection_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bot', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.drop_index('ix_collection_record_collection')
        batch_op.create_index('ix_collection_record_collection_bot', ['collection', 'bot'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('collection_record', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_record_collection_bot')
        batch_op.create_index('ix_collection_record_collection', ['collection'], unique=False)
        batch_op.drop_column('bot')
