"""issued credentials: signed Open Badges / CLR documents and their status-list bits

Revision ID: c4ed0e1a2b3c
Revises: a8f0c1d2e3f4
Create Date: 2026-12-03

The issuer's private key is not here: it lives in files (LMS_ISSUER_KEY_DIR), never in the database.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4ed0e1a2b3c'
down_revision = 'a8f0c1d2e3f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issued_credentials',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=True),
    sa.Column('status_index', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=True),
    sa.Column('token', sa.Text(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['result_id'], ['final_results.id'], name=op.f('fk_issued_credentials_result_id_final_results')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_issued_credentials_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_issued_credentials_student_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_credentials')),
    sa.UniqueConstraint('status_index', name=op.f('uq_issued_credentials_status_index'))
    )
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.create_index('ix_issued_credentials_kind_result_id', ['kind', 'result_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_issued_credentials_student_id'), ['student_id'], unique=False)


def downgrade():
    with op.batch_alter_table('issued_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issued_credentials_student_id'))
        batch_op.drop_index('ix_issued_credentials_kind_result_id')

    op.drop_table('issued_credentials')
