"""portfolios: students' chosen graded work, and the public links they share it by

Revision ID: eccb0b12faf9
Revises: c4ed0e1a2b3c
Create Date: 2026-12-04

A piece points at its submission (ON DELETE CASCADE): a deleted submission leaves every portfolio.
Assignments gain portfolio_feedback: whether students may quote the instructor's feedback.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'eccb0b12faf9'
down_revision = 'c4ed0e1a2b3c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('portfolios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('headline_en', sa.String(length=200), nullable=False),
    sa.Column('headline_ja', sa.String(length=200), nullable=False),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('show_email', sa.Boolean(), nullable=False),
    sa.Column('show_student_number', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_portfolios_student_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portfolios')),
    sa.UniqueConstraint('student_id', name=op.f('uq_portfolios_student_id'))
    )
    op.create_table('portfolio_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portfolio_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('last_viewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['portfolio_id'], ['portfolios.id'], name=op.f('fk_portfolio_links_portfolio_id_portfolios'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portfolio_links')),
    sa.UniqueConstraint('token', name=op.f('uq_portfolio_links_token'))
    )
    op.create_table('portfolio_pieces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('portfolio_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('title_ja', sa.String(length=200), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_ja', sa.Text(), nullable=False),
    sa.Column('show_grade', sa.Boolean(), nullable=False),
    sa.Column('show_feedback', sa.Boolean(), nullable=False),
    sa.Column('credential_id', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credential_id'], ['issued_credentials.id'], name=op.f('fk_portfolio_pieces_credential_id_issued_credentials')),
    sa.ForeignKeyConstraint(['portfolio_id'], ['portfolios.id'], name=op.f('fk_portfolio_pieces_portfolio_id_portfolios'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_portfolio_pieces_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_portfolio_pieces')),
    sa.UniqueConstraint('portfolio_id', 'submission_id', name=op.f('uq_portfolio_pieces_portfolio_id_submission_id'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portfolio_feedback', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))



def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('portfolio_feedback')

    op.drop_table('portfolio_pieces')
    op.drop_table('portfolio_links')
    op.drop_table('portfolios')
