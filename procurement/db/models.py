"""SQLAlchemy 2 typed models: organisations, users, cases and their records, the audit log.

The schema itself is created and changed only by the Alembic migrations in
`procurement.db.migrations`; a test compares these models with the migrated database so the two
never drift. A naming convention names every constraint, so migrations are portable between
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The fields of a board report (報告書), in display order: the text columns of `BoardReport`.
BOARD_REPORT_FIELDS = (
    "project_details", "objectives", "risk_mitigation", "qa_plan", "schedule", "contact",
)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on both databases.

    SQLite keeps no offset, so values are normalised to UTC before they are written and marked UTC
    when read back; PostgreSQL stores `timestamptz` and returns the session's zone, converted here.
    A naive datetime is refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base whose metadata names every constraint."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), date: Date()}


class Organisation(Base):
    """A ministry or municipality; `code` is also the name of its audit chain."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # 'ministry' | 'municipality'
    # An explicit pack choice ('city-strict@1', 'jp-national@2.0.0'); NULL = the national
    # edition in force on the case date.
    pack_ref: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime]


class User(Base):
    """A person who signs in; belongs to exactly one organisation."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # Optional: where notifications go; single sign-on may map its e-mail claim to it.
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    roles: Mapped[str] = mapped_column(String(200))  # comma-separated, sorted
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The latest sign-in lock of this account from any client (shown to administrators, lifted
    # by `unlock_user`); the back-off itself is kept per client in `sign_in_attempts`.
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Case(Base):
    """One procurement or use of generative AI being assessed."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    department: Mapped[str] = mapped_column(String(200))
    # 利用目的: what the system is used for, as the planner describes it (free text, may be empty).
    # Descriptive, not assessed: the periodic report to the Digital Agency shows it.
    purpose: Mapped[str] = mapped_column(Text, default="", server_default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    pack_id: Mapped[str] = mapped_column(String(100))
    pack_version: Mapped[str] = mapped_column(String(40))
    pack_fingerprint: Mapped[str] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(40))
    is_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    has_blocking: Mapped[bool] = mapped_column(Boolean, default=False)
    answers_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock counter
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approval_voided_at: Mapped[datetime | None]
    approval_voided_reason: Mapped[str | None] = mapped_column(Text)

    # Every UPDATE of a case says `WHERE version = <the version read>`, so two writers working from
    # the same copy cannot both succeed, on PostgreSQL's READ COMMITTED as on SQLite. The writer
    # sets the next value itself (`Services.unit_of_work(...).touch(case)`).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Answer(Base):
    """The current answer to one question of a case (history lives in the audit log)."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("case_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The case's organisation (filled from the case when left unset: `fill_org_id`).
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(Text)  # JSON text of the answer value
    answered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime]


class ChecklistResult(Base):
    """The state of one checklist item of a case."""

    __tablename__ = "checklist_results"
    __table_args__ = (UniqueConstraint("case_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The case's organisation (filled from the case when left unset: `fill_org_id`).
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))  # met | not_met | not_applicable | pending
    evidence: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]


class BoardReport(Base):
    """The report to the AI governance board (CAIO) for a high-risk case."""

    __tablename__ = "board_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    # The case's organisation (filled from the case when left unset: `fill_org_id`).
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    project_details: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    risk_mitigation: Mapped[str] = mapped_column(Text, default="")
    qa_plan: Mapped[str] = mapped_column(Text, default="")
    schedule: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]


class Decision(Base):
    """A decision on a case, pinned to the answers and pack it was based on."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The case's organisation (filled from the case when left unset: `fill_org_id`).
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str | None] = mapped_column(String(40))
    pack_id: Mapped[str] = mapped_column(String(100))
    pack_version: Mapped[str] = mapped_column(String(40))
    pack_fingerprint: Mapped[str] = mapped_column(String(64))
    answers_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class AuditEvent(Base):
    """One link of an organisation's hash chain (see docs/audit-log.md).

    No foreign keys: the log must stay verifiable on its own, whatever happens to other tables.
    """

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    payload: Mapped[str] = mapped_column(Text)  # JSON text
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class InstalledPack(Base):
    """A rule pack installed into the database from a bundle (pack sharing)."""

    __tablename__ = "installed_packs"
    __table_args__ = (UniqueConstraint("pack_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    installed_by: Mapped[str] = mapped_column(String(100))
    installed_at: Mapped[datetime]
    source_name: Mapped[str] = mapped_column(String(300))
    bundle: Mapped[bytes] = mapped_column(LargeBinary)
    # The organisation that installed it; the first one to install a pack id owns the id (NULL:
    # the installation itself, e.g. the command line without --org).
    owner_org: Mapped[str | None] = mapped_column(String(64))
    # The exact parent (`id@x.y.z#fingerprint`) the pack was resolved against when installed:
    # it keeps resolving to that parent whatever versions are added later.
    parent_ref: Mapped[str | None] = mapped_column(String(200))


class InstallationState(Base):
    """The one row of installation-wide state: the hashed one-time first-run setup token."""

    __tablename__ = "installation_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    setup_token_hash: Mapped[str | None] = mapped_column(String(64))
    setup_token_created_at: Mapped[datetime | None]


class SignInAttempt(Base):
    """Failed sign-ins of one username from one client address, for the back-off (also for
    usernames that do not exist, so that every failure looks the same from outside)."""

    __tablename__ = "sign_in_attempts"
    # Client first: the same index answers "how many failures from this client" (spraying).
    __table_args__ = (UniqueConstraint("client", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    client: Mapped[str] = mapped_column(String(100))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class WebSession(Base):
    """A signed-in browser session: the server side of the HttpOnly session cookie.

    Only hashes are stored: of the cookie token, and of the one-time ticket that the browser
    exchanges for the cookie right after sign-in. A session ends when it is revoked (sign-out,
    idle timeout, deactivation, role change) and is never revived.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    ticket_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    ticket_expires_at: Mapped[datetime | None]
    via: Mapped[str] = mapped_column(String(20))  # 'password' | 'sso'
    client: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class Operation(Base):
    """How an approved system is run: vendor, model, reviews, retirement."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    # The case's organisation (filled from the case when left unset: `fill_org_id`).
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    started_on: Mapped[date | None]
    vendor: Mapped[str] = mapped_column(String(200), default="")
    model_name: Mapped[str] = mapped_column(String(200), default="")
    model_version: Mapped[str] = mapped_column(String(100), default="")
    ismap_listing: Mapped[str] = mapped_column(String(200), default="")
    review_interval_months: Mapped[int | None] = mapped_column(Integer)
    last_reviewed_on: Mapped[date | None]
    ended_on: Mapped[date | None]
    end_evidence: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime]


class Incident(Base):
    """An incident with a system in operation, reported to the CAIO."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The case's organisation (filled from the case when left unset: `fill_org_id`).
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    occurred_on: Mapped[date]
    severity: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    actions_taken: Mapped[str] = mapped_column(Text, default="")
    reported_to_caio_at: Mapped[datetime | None]
    reported_onward_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)


class Consultation(Base):
    """What a reviewer recorded of a report or consultation step before approving (the Advisory
    Board, a municipality's committee, the CAIO: whatever the case's pack names as the step's
    body): when it was reported, whether advice was received, a note.

    One row per step of one submission (`submission_id`, the case's `submission` decision): a
    resubmitted case needs its consultation recorded again, and recording it a second time for
    the same submission corrects the record (the audit event keeps the old values). It is the
    reviewer's own record, not part of the case: writing it changes neither the case's version
    nor anything an approval covers.
    """

    __tablename__ = "consultations"
    __table_args__ = (UniqueConstraint("submission_id", "step_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The case's organisation (filled from the case when left unset: `fill_org_id`).
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"))
    step_id: Mapped[str] = mapped_column(String(100))
    reported_on: Mapped[date]
    advice: Mapped[str] = mapped_column(String(20))  # 'received' | 'none'
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]


class Notification(Base):
    """One e-mail message in the outbox (`procurement.notify`).

    Written in the same transaction as the change it tells about, so a message exists exactly
    when its change was committed; any app process (or `procurement notify run`) sends it later,
    claiming it first so that two processes never send one twice. A failed send is retried with
    back-off until `status` becomes `failed`. Never holds a secret: the body is what the
    recipient reads, the error text is the server's answer.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # case_submitted | case_returned | case_approved | review_due
    kind: Mapped[str] = mapped_column(String(40))
    org_code: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # Set for messages that must be queued once only (a review reminder per due date and user).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued|sending|sent|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    claimed_at: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


#: The records keyed by case that also carry their case's organisation (migration 0006), so that
#: every table that grows can be scoped, indexed and distributed by organisation.
CASE_RECORDS = (Answer, ChecklistResult, BoardReport, Decision, Operation, Incident,
                Consultation)


@event.listens_for(Session, "before_flush")
def fill_org_id(session: Session, _flush_context, _instances) -> None:
    """Give every new case record its case's organisation, unless the writer set it: the code
    that writes these records names the case, and the organisation follows from it. The case is
    usually in the session already (the unit of work loaded it); otherwise one query finds the
    organisations of all cases concerned. Core inserts (bulk loads) set `org_id` themselves: the
    column is NOT NULL, so a writer that forgets it fails rather than writing an unscoped row."""
    pending = [obj for obj in session.new
               if isinstance(obj, CASE_RECORDS) and obj.org_id is None and obj.case_id is not None]
    if not pending:
        return
    known: dict[int, int] = {}
    for obj in session.identity_map.values():
        if isinstance(obj, Case):
            known[obj.id] = obj.org_id
    missing = {obj.case_id for obj in pending} - known.keys()
    if missing:
        with session.no_autoflush:
            known.update(session.execute(
                select(Case.id, Case.org_id).where(Case.id.in_(missing))).tuples())
    for obj in pending:
        obj.org_id = known.get(obj.case_id)
