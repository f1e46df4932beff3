"""Every table that grows carries the organisation: `org_id` on the tables keyed by case
(answers, checklist_results, decisions, board_reports, operations, incidents,
consultations), filled from the
case for existing rows, indexed, and required from now on.

Each query of an organisation's records can then be scoped by it, and a deployment that outgrows
one PostgreSQL server can distribute these tables by organisation (docs/deployment.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables keyed by case that get the organisation of their case.
TABLES = ("answers", "checklist_results", "decisions", "board_reports", "operations",
          "incidents", "consultations")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            batch_op.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET org_id = "
                   f"(SELECT cases.org_id FROM cases WHERE cases.id = {table}.case_id)")
        # SQLite cannot add NOT NULL or a foreign key to a column in place: batch mode copies
        # the table there; PostgreSQL alters it.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('org_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(op.f(f'fk_{table}_org_id_organisations'),
                                        'organisations', ['org_id'], ['id'])
        op.create_index(op.f(f'ix_{table}_org_id'), table, ['org_id'])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(op.f(f'ix_{table}_org_id'), table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'fk_{table}_org_id_organisations'), type_='foreignkey')
            batch_op.drop_column('org_id')
