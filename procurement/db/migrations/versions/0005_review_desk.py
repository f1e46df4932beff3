"""The reviewer's desk: consultations recorded before approval, and the e-mail outbox.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 13:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'consultations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('step_id', sa.String(length=100), nullable=False),
        sa.Column('reported_on', sa.Date(), nullable=False),
        sa.Column('advice', sa.String(length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('recorded_by', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_consultations_case_id_cases')),
        sa.ForeignKeyConstraint(['submission_id'], ['decisions.id'],
                                name=op.f('fk_consultations_submission_id_decisions')),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name=op.f('fk_consultations_recorded_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations')),
        sa.UniqueConstraint('submission_id', 'step_id',
                            name=op.f('uq_consultations_submission_id_step_id')),
    )
    op.create_index(op.f('ix_consultations_case_id'), 'consultations', ['case_id'])
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('org_code', sa.String(length=64), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('recipient_user_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claim_token', sa.String(length=64), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                                name=op.f('fk_notifications_case_id_cases')),
        sa.ForeignKeyConstraint(['recipient_user_id'], ['users.id'],
                                name=op.f('fk_notifications_recipient_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('dedupe_key', name=op.f('uq_notifications_dedupe_key')),
    )
    op.create_index(op.f('ix_notifications_case_id'), 'notifications', ['case_id'])
    op.create_index(op.f('ix_notifications_status'), 'notifications', ['status'])
    op.create_index(op.f('ix_notifications_next_attempt_at'), 'notifications',
                    ['next_attempt_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_notifications_next_attempt_at'), table_name='notifications')
    op.drop_index(op.f('ix_notifications_status'), table_name='notifications')
    op.drop_index(op.f('ix_notifications_case_id'), table_name='notifications')
    op.drop_table('notifications')
    op.drop_index(op.f('ix_consultations_case_id'), table_name='consultations')
    op.drop_table('consultations')
