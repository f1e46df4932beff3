"""Trust: four eyes on every approval, sessions that really end, a first-run setup that needs
its token and creates exactly one administrator (SQLite and PostgreSQL).

Each test starts from the attack as it was tried against the first version.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from procurement import audit
from procurement.db.models import User, WebSession
from procurement.demo import HIGH, LOW
from procurement.errors import AuthenticationError, InputError, WorkflowError
from procurement.records.sessions import SessionEndedError
from tests.fixtures.services import TEST_PASSWORD, approve_recorded, submit_filled


@pytest.fixture
def dual(services, admin):
    """A user holding planner and reviewer (the example the operations guide gave)."""
    services.create_user(admin, "org-a", "a-dual", "兼務 五郎", TEST_PASSWORD,
                         ["planner", "reviewer"])
    return services.actor_for("a-dual")


# --------------------------------------------------------------------------- four eyes


def test_one_person_cannot_rewrite_submit_and_approve_a_case_alone(services, planner, dual,
                                                                    reviewer):
    """The attack: the dual-role user rewrites another planner's high case to low, submits it
    and approves it."""
    case = services.create_case(planner, "国民向け相談", "広報課", answers=HIGH)
    low = services.save_answers(dual, case.id, {**LOW}, case.version)
    assert low.level == "low"
    submitted = submit_filled(services, dual, low)
    with pytest.raises(WorkflowError) as refused:
        services.approve(dual, submitted.id, submitted.version)
    assert refused.value.params["rule"] == "four_eyes"
    assert refused.value.params["reason"] == "submitted"
    assert "separation of duties" in refused.value.message
    assert services.get_case(planner, case.id).status == "submitted"
    assert services.approval_conflicts(dual, [case.id]) == {case.id: "submitted"}
    # Another reviewer approves it (once the consultation its pack asks for is recorded).
    assert approve_recorded(services, reviewer, submitted).status == "approved"


def test_a_reviewer_who_changed_a_case_cannot_approve_it_even_when_someone_else_submits(
        services, planner, dual, reviewer):
    case = services.create_case(planner, "要約", "総務課", answers=LOW)
    case = services.set_checklist_item(dual, case.id, "PC-G1", "met", "契約書案で確認",
                                       case.version)
    submitted = submit_filled(services, planner, case)
    with pytest.raises(WorkflowError) as refused:
        services.approve(dual, submitted.id, submitted.version)
    assert refused.value.params["reason"] == "changed"
    assert services.approval_conflicts(reviewer, [case.id]) == {}
    approved = services.approve(reviewer, submitted.id, submitted.version)
    # After an approval, what the dual user changed before is covered by it: a later round that
    # they did not touch, they may approve.
    edited = services.save_answers(planner, approved.id, {"HR-1": "staff_wide"}, approved.version)
    again = submit_filled(services, planner, edited)
    assert services.approval_conflicts(dual, [case.id]) == {}
    assert services.approve(dual, again.id, again.version).status == "approved"


def test_returning_and_commenting_do_not_count_as_changing(services, planner, dual):
    case = services.create_case(planner, "要約", "総務課", answers=LOW)
    submitted = submit_filled(services, planner, case)
    returned = services.return_case(dual, submitted.id, "根拠を追記してください", submitted.version)
    again = services.submit(planner, returned.id, returned.version)
    assert services.approve(dual, again.id, again.version).status == "approved"
    assert all(r.ok for r in audit.verify_database(services.engine))


# --------------------------------------------------------------------------- sessions


def test_a_session_resumes_by_id_or_cookie_token_until_signed_out(services, planner):
    actor = services.authenticate("a-planner", TEST_PASSWORD, client="192.0.2.1")
    session_id, ticket = services.start_session(actor, client="192.0.2.1")
    token = services.exchange_ticket(ticket)
    assert token and services.exchange_ticket(ticket) is None  # one use only
    by_token = services.resume_session(token=token)
    assert (by_token.username, by_token.session_id) == ("a-planner", session_id)
    assert services.resume_session(session_id=session_id) == by_token
    with services.read() as s:  # only hashes are stored
        row = s.get(WebSession, session_id)
        assert row.token_hash != token and token not in str(row.__dict__)
    services.end_session(session_id)
    for lookup in ({"session_id": session_id}, {"token": token}):
        with pytest.raises(SessionEndedError) as ended:
            services.resume_session(**lookup)
        assert ended.value.params["reason"] == "signed_out"


def test_an_expired_ticket_is_worthless(services, planner, service_clock):
    session_id, ticket = services.start_session(planner)
    service_clock.now += timedelta(minutes=5)
    assert services.exchange_ticket(ticket) is None
    assert services.exchange_ticket("made-up") is None


def test_after_the_idle_timeout_nothing_the_session_does_is_stored(services, admin, planner,
                                                                   service_clock, monkeypatch):
    """The attack: after 2 idle hours an admin's password reset (a widget callback, run before
    the page checks the timeout) still went through, and a workspace autosave was stored."""
    monkeypatch.setenv("PROCUREMENT_SESSION_TIMEOUT_MINUTES", "30")
    admin_session, _ = services.start_session(admin)
    planner_session, _ = services.start_session(planner)
    in_admin = services.resume_session(session_id=admin_session)
    in_planner = services.resume_session(session_id=planner_session)
    case = services.create_case(in_planner, "要約", "総務課", answers=LOW)
    service_clock.now += timedelta(hours=2)
    with pytest.raises(SessionEndedError) as ended:
        services.set_user_password(in_admin, "a-planner", "an attacker's choice")
    assert ended.value.params["reason"] == "idle"
    with pytest.raises(SessionEndedError):
        services.save_answers(in_planner, case.id, {"HR-1": "public"}, case.version)
    assert services.get_case(planner, case.id).answers == LOW
    assert services.authenticate("a-planner", TEST_PASSWORD).username == "a-planner"
    # The next page run ends the session for good.
    with pytest.raises(SessionEndedError):
        services.resume_session(session_id=admin_session)
    with services.read() as s:
        assert s.get(WebSession, admin_session).revoked_reason == "idle"


@pytest.mark.parametrize("change, reason", [
    (lambda svc, admin: svc.set_user_active(admin, "a-planner", False), "deactivated"),
    (lambda svc, admin: svc.set_user_roles(admin, "a-planner", ["auditor"]), "roles_changed"),
    (lambda svc, admin: svc.set_user_password(admin, "a-planner", "a new passphrase"),
     "password_reset"),
])
def test_deactivation_role_change_and_new_password_end_open_sessions(services, admin, planner,
                                                                     change, reason):
    session_id, ticket = services.start_session(planner)
    token = services.exchange_ticket(ticket)
    in_session = services.resume_session(token=token)
    change(services, admin)
    with pytest.raises(SessionEndedError) as ended:
        services.resume_session(token=token)
    assert ended.value.params["reason"] == reason
    with pytest.raises(AuthenticationError):
        services.create_case(in_session, "後から", "課", answers=LOW)


# --------------------------------------------------------------------------- first-run setup


@pytest.fixture
def empty_services(engine, records_registry, fast_password_hashing):
    from procurement.services import Services

    return Services(engine, records_registry)


def _setup(svc, token, username="first-admin"):
    return svc.create_first_admin("org-a", "テスト省", "ministry", username, "管理 太郎",
                                  TEST_PASSWORD, setup_token=token)


def test_first_run_setup_needs_the_printed_token_and_consumes_it(empty_services):
    svc = empty_services
    token = svc.ensure_setup_token()
    assert token and svc.ensure_setup_token() is None  # made once, by the first process
    with pytest.raises(InputError) as wrong:
        _setup(svc, "guessed")
    assert wrong.value.params["field"] == "setup_token"
    assert not svc.has_users()
    assert _setup(svc, token).username == "first-admin"
    with pytest.raises(WorkflowError):
        _setup(svc, token, "second-admin")
    with pytest.raises(WorkflowError):
        svc.new_setup_token()


def test_concurrent_setups_create_exactly_one_administrator(empty_services, db_url):
    """Two browsers submit the first-run form at the same moment (on PostgreSQL both used to
    succeed)."""
    from procurement.db import create_db_engine
    from procurement.services import Services

    token = empty_services.new_setup_token()
    engines = [create_db_engine(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))
    outcomes: list[str] = []

    def attempt(index: int) -> None:
        svc = Services(engines[index], empty_services.registry)
        barrier.wait()
        try:
            _setup(svc, token, f"admin-{index}")
            outcomes.append("created")
        except (WorkflowError, InputError):
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    assert sorted(outcomes) == ["created"] + ["refused"] * (len(engines) - 1)
    with empty_services.read() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1
