"""academic record: schemes, final results, amendments, recognised credits

Revision ID: 2b8ecdcc6d5b
Revises: bab159cc400e
Create Date: 2026-11-24

"""
from alembic import op
import sqlalchemy as sa

from lms.records.triggers import statements_v1 as statements


# revision identifiers, used by Alembic.
revision = '2b8ecdcc6d5b'
down_revision = 'bab159cc400e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credit_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('program_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('factor', sa.Numeric(precision=10, scale=6), nullable=False),
    sa.Column('step', sa.Numeric(precision=4, scale=2), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_credit_rules_created_by_id_users')),
    sa.ForeignKeyConstraint(['program_id'], ['programs.id'], name=op.f('fk_credit_rules_program_id_programs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_rules')),
    sa.UniqueConstraint('program_id', 'version', name=op.f('uq_credit_rules_program_id_version'))
    )
    op.create_table('japanese_grade_schemes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('bands', sa.JSON(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('passing', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_japanese_grade_schemes_created_by_id_users')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner_universities.id'], name=op.f('fk_japanese_grade_schemes_partner_id_partner_universities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_japanese_grade_schemes')),
    sa.UniqueConstraint('partner_id', 'version', name=op.f('uq_japanese_grade_schemes_partner_id_version'))
    )
    op.create_table('recognised_credits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('institution', sa.String(length=200), nullable=False),
    sa.Column('ja_credits', sa.Numeric(precision=4, scale=1), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_recognised_credits_approved_by_id_users')),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_recognised_credits_student_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognised_credits'))
    )
    op.create_table('final_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('raw_score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('state', sa.Enum('in_progress', 'submitted', 'finalized', name='resultstate', native_enum=False, length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('ja_scheme_id', sa.Integer(), nullable=True),
    sa.Column('credit_rule_id', sa.Integer(), nullable=True),
    sa.Column('uz_scale_version', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finalized_by_id', sa.Integer(), nullable=True),
    sa.Column('finalized_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['credit_rule_id'], ['credit_rules.id'], name=op.f('fk_final_results_credit_rule_id_credit_rules')),
    sa.ForeignKeyConstraint(['finalized_by_id'], ['users.id'], name=op.f('fk_final_results_finalized_by_id_users')),
    sa.ForeignKeyConstraint(['ja_scheme_id'], ['japanese_grade_schemes.id'], name=op.f('fk_final_results_ja_scheme_id_japanese_grade_schemes')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_final_results_offering_id_offerings')),
    sa.ForeignKeyConstraint(['student_id'], ['users.id'], name=op.f('fk_final_results_student_id_users')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_final_results_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_final_results')),
    sa.UniqueConstraint('student_id', 'offering_id', name=op.f('uq_final_results_student_id_offering_id'))
    )
    op.create_table('result_amendments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('old_raw_score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('new_raw_score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_result_amendments_actor_id_users')),
    sa.ForeignKeyConstraint(['result_id'], ['final_results.id'], name=op.f('fk_result_amendments_result_id_final_results')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_amendments'))
    )

    # Finalized results and amendments are unchangeable below the app too.
    for sql in statements(op.get_bind().dialect.name, create=True):
        op.execute(sql)


def downgrade():
    for sql in statements(op.get_bind().dialect.name, create=False):
        op.execute(sql)
    op.drop_table('result_amendments')
    op.drop_table('final_results')
    op.drop_table('recognised_credits')
    op.drop_table('japanese_grade_schemes')
    op.drop_table('credit_rules')
