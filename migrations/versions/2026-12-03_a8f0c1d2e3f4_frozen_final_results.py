"""frozen final results: snapshots, stricter guards, term semesters, recognised-credit rules

Revision ID: a8f0c1d2e3f4
Revises: 7f3a2b9c4d10
Create Date: 2026-12-03

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8f0c1d2e3f4'
down_revision = '7f3a2b9c4d10'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
