"""A case's purpose (利用目的): cases.purpose, free text, '' for the cases that existed before.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 05:35:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add cases.purpose; existing rows get the server default ''.

    The default is a plain string, not a SQL expression: SQLite then adds the column in place
    (ALTER TABLE ... ADD COLUMN) instead of copying the table.
    """
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    """Drop cases.purpose in place (SQLite 3.35+ and PostgreSQL): copying the table, batch
    mode's usual way on SQLite, would have to drop `cases` while answers and decisions refer to
    it, which the enforced foreign keys refuse."""
    with op.batch_alter_table('cases', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('purpose')
