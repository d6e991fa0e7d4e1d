"""frozen final results: snapshots, stricter guards, term semesters, recognised-credit rules

Revision ID: a8f0c1d2e3f4
Revises: 7f3a2b9c4d10
Create Date: 2026-12-03

Finalized results get the snapshot they should always have had (lms/records/snapshot.py), made
from the course, term, scheme and rule rows they point at now; recognised credits get the Uzbek
credits the program's newest rule gives them (which is what the totals counted until now).
"""
import json
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa

from lms.records import snapshot
from lms.records.triggers import statements_v1, statements_v2
from lms.records.versions import rule_value


# revision identifiers, used by Alembic.
revision = 'a8f0c1d2e3f4'
down_revision = '7f3a2b9c4d10'
branch_labels = None
depends_on = None


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _rows(conn, sql, **params):
    return [SimpleNamespace(**row._mapping) for row in conn.execute(sa.text(sql), params)]


def _backfill(conn):
    rules = {r.id: r for r in _rows(conn, "SELECT * FROM credit_rules")}
    schemes = {}
    for s in _rows(conn, "SELECT * FROM japanese_grade_schemes"):
        s.bands, s.points, s.passing = _json(s.bands), _json(s.points), _json(s.passing)
        schemes[s.id] = s
    partners = {p.id: p for p in _rows(conn, "SELECT id, code, name_en, name_ja FROM partner_universities")}
    for result in _rows(conn, "SELECT * FROM final_results WHERE state = 'finalized'"):
        offering = _rows(conn, "SELECT * FROM offerings WHERE id = :id", id=result.offering_id)[0]
        course = _rows(conn, "SELECT * FROM courses WHERE id = :id", id=offering.course_id)[0]
        course.partner, course.skills = partners.get(course.partner_id), []
        term = _rows(conn, "SELECT * FROM terms WHERE id = :id", id=offering.term_id)[0]
        result.offering = SimpleNamespace(course=course, term=term)
        frozen = snapshot.freeze(result, schemes.get(result.ja_scheme_id), rules.get(result.credit_rule_id))
        conn.execute(sa.text("UPDATE final_results SET frozen = :frozen WHERE id = :id"),
                     {"frozen": json.dumps(frozen, ensure_ascii=False), "id": result.id})
    for row in _rows(conn, "SELECT rc.id, rc.ja_credits, u.program_id FROM recognised_credits rc "
                           "JOIN users u ON u.id = rc.student_id"):
        rule = max((r for r in rules.values() if r.program_id == row.program_id), key=lambda r: r.version,
                   default=None)
        if rule is None:
            continue
        conn.execute(sa.text("UPDATE recognised_credits SET uz_credits = :uz, credit_rule_id = :rule WHERE id = :id"),
                     {"uz": rule_value(rule).convert_recognised(row.ja_credits), "rule": rule.id, "id": row.id})


def upgrade():
    with op.batch_alter_table('terms') as batch:
        batch.add_column(sa.Column('ja_year', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('ja_semester', sa.String(length=4), nullable=True))
    with op.batch_alter_table('courses') as batch:
        batch.add_column(sa.Column('skills', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table('credit_rules') as batch:
        batch.add_column(sa.Column('recognised_factor', sa.Numeric(precision=10, scale=6), nullable=True))
    with op.batch_alter_table('final_results') as batch:
        batch.add_column(sa.Column('frozen', sa.JSON(), nullable=True))
    with op.batch_alter_table('recognised_credits') as batch:
        batch.add_column(sa.Column('uz_credits', sa.Numeric(precision=6, scale=2), nullable=False,
                                   server_default=sa.text('0')))
        batch.add_column(sa.Column('credit_rule_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_recognised_credits_credit_rule_id_credit_rules'), 'credit_rules',
                                 ['credit_rule_id'], ['id'])
    conn = op.get_bind()
    dialect = conn.dialect.name
    # Until now 認定 counted toward the 240 with the program's own factor: keep that as the rule.
    conn.execute(sa.text("UPDATE credit_rules SET recognised_factor = factor"))
    for sql in statements_v1(dialect, create=False):  # the snapshot is written into finalized rows once
        op.execute(sql)
    _backfill(conn)
    for sql in statements_v1(dialect, create=True) + statements_v2(dialect, create=True):
        op.execute(sql)


def downgrade():
    conn = op.get_bind()
    for sql in statements_v2(conn.dialect.name, create=False):
        op.execute(sql)
    with op.batch_alter_table('recognised_credits') as batch:
        batch.drop_constraint(op.f('fk_recognised_credits_credit_rule_id_credit_rules'), type_='foreignkey')
        batch.drop_column('credit_rule_id')
        batch.drop_column('uz_credits')
    for sql in statements_v1(conn.dialect.name, create=False):
        op.execute(sql)
    with op.batch_alter_table('final_results') as batch:
        batch.drop_column('frozen')
    for sql in statements_v1(conn.dialect.name, create=True):
        op.execute(sql)
    with op.batch_alter_table('credit_rules') as batch:
        batch.drop_column('recognised_factor')
    with op.batch_alter_table('courses') as batch:
        batch.drop_column('skills')
    with op.batch_alter_table('terms') as batch:
        batch.drop_column('ja_semester')
        batch.drop_column('ja_year')
