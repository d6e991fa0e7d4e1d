"""worker heartbeats

Revision ID: 5d1e0c7a9b21
Revises: 2b8ecdcc6d5b
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1e0c7a9b21'
down_revision = '2b8ecdcc6d5b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('worker_heartbeats',
    sa.Column('worker_id', sa.String(length=120), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('current_job_id', sa.Integer(), nullable=True),
    sa.Column('jobs_done', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('idle', 'busy', 'stopping', 'stopped', name='workerstate', native_enum=False, length=20), nullable=False),
    sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_worker_heartbeats'))
    )


def downgrade():
    op.drop_table('worker_heartbeats')
