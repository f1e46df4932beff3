"""Trust: server-side web sessions, sign-in back-off per client, the first-run setup token, and
the owner and locked parent of installed packs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'installation_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('setup_token_hash', sa.String(length=64), nullable=True),
        sa.Column('setup_token_created_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_installation_state')),
    )
    # The one row, present from the start: setups lock it (SELECT ... FOR UPDATE).
    op.execute("INSERT INTO installation_state (id) VALUES (1)")
    op.create_table(
        'sign_in_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('client', sa.String(length=100), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts')),
        sa.UniqueConstraint('client', 'username', name=op.f('uq_sign_in_attempts_client_username')),
    )
    op.create_index(op.f('ix_sign_in_attempts_updated_at'), 'sign_in_attempts', ['updated_at'])
    op.create_table(
        'web_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('ticket_hash', sa.String(length=64), nullable=True),
        sa.Column('ticket_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('via', sa.String(length=20), nullable=False),
        sa.Column('client', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_reason', sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash')),
        sa.UniqueConstraint('ticket_hash', name=op.f('uq_web_sessions_ticket_hash')),
    )
    op.create_index(op.f('ix_web_sessions_user_id'), 'web_sessions', ['user_id'])
    with op.batch_alter_table('installed_packs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_org', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('parent_ref', sa.String(length=200), nullable=True))
    # The failure count moves to sign_in_attempts (per client). Dropped in place (SQLite 3.35+,
    # PostgreSQL): rebuilding `users` would have to drop a table other tables refer to.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('failed_logins')


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('installed_packs', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('parent_ref')
        batch_op.drop_column('owner_org')
    op.drop_index(op.f('ix_web_sessions_user_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index(op.f('ix_sign_in_attempts_updated_at'), table_name='sign_in_attempts')
    op.drop_table('sign_in_attempts')
    op.drop_table('installation_state')
