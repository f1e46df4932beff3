"""Administrators reset passwords and lift sign-in locks: admin only, audited in the account's
organisation chain, never revealing the password (SQLite and PostgreSQL)."""

import json

import pytest
from sqlalchemy import select

from procurement import audit
from procurement.db.models import AuditEvent, User
from procurement.errors import AuthenticationError, InputError, NotFoundError, PermissionDeniedError
from procurement.services import MAX_FAILED_LOGINS
from tests.fixtures.services import TEST_PASSWORD

NEW_PASSWORD = "a fresh passphrase"


def events(svc, chain):
    with svc.read() as s:
        return [(e.event_type, e.actor, json.loads(e.payload)) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq))]


def lock(svc, username):
    """Lock the account for the default client (the one every call here comes from)."""
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationError):
            svc.authenticate(username, "wrong password")
    with pytest.raises(AuthenticationError):
        svc.authenticate(username, TEST_PASSWORD)
    with svc.read() as s:
        assert s.scalar(select(User.locked_until).where(User.username == username)) is not None


def test_admin_sets_a_new_password_for_any_organisations_user(services, admin, other_planner):
    view = services.set_user_password(admin, "b-planner", NEW_PASSWORD)
    assert (view.username, view.org_code, view.locked_until) == ("b-planner", "org-b", None)
    assert services.authenticate("b-planner", NEW_PASSWORD).username == "b-planner"
    with pytest.raises(AuthenticationError):
        services.authenticate("b-planner", TEST_PASSWORD)
    # Recorded in the account's own organisation chain, naming the administrator, not the password.
    reset = [e for e in events(services, "org-b") if e[0] == "user.password_reset"]
    assert reset == [("user.password_reset", "a-admin", {"username": "b-planner"})]
    with services.engine.connect() as conn:
        dump = " ".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM audit_events"))
        dump += " ".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM users"))
    assert NEW_PASSWORD not in dump
    assert all(r.ok for r in audit.verify_database(services.engine))


def test_a_new_password_also_lifts_a_lock(services, admin, planner):
    lock(services, "a-planner")
    services.set_user_password(admin, "a-planner", NEW_PASSWORD)
    assert services.authenticate("a-planner", NEW_PASSWORD).username == "a-planner"


def test_a_short_password_or_unknown_user_changes_nothing(services, admin, planner):
    before = events(services, "org-a")
    with pytest.raises(InputError) as short:
        services.set_user_password(admin, "a-planner", "short")
    assert short.value.params == {"field": "password", "min_length": 8}
    with pytest.raises(NotFoundError) as unknown:
        services.set_user_password(admin, "nobody", NEW_PASSWORD)
    assert unknown.value.params == {"kind": "user", "id": "nobody"}
    with pytest.raises(NotFoundError):
        services.unlock_user(admin, "nobody")
    assert events(services, "org-a") == before
    assert services.authenticate("a-planner", TEST_PASSWORD).username == "a-planner"


@pytest.mark.parametrize("who", ["a-planner", "a-reviewer", "a-auditor", "a-packadmin", "b-planner"])
def test_only_administrators_reset_or_unlock(who, services, org_actors):
    actor = org_actors[who]
    lock(services, "a-planner2")
    with pytest.raises(PermissionDeniedError):
        services.set_user_password(actor, "a-planner2", NEW_PASSWORD)
    with pytest.raises(PermissionDeniedError):
        services.set_user_password(actor, who, NEW_PASSWORD)  # not even their own
    with pytest.raises(PermissionDeniedError):
        services.unlock_user(actor, "a-planner2")
    types = [e[0] for e in events(services, "org-a")]
    assert "user.password_reset" not in types and "user.unlocked" not in types
    with pytest.raises(AuthenticationError):
        services.authenticate("a-planner2", TEST_PASSWORD)  # still locked


def test_admin_unlocks_an_account_and_the_failure_count_starts_again(services, admin, planner):
    lock(services, "a-planner")
    with services.read() as s:
        locked_until = s.scalar(select(User.locked_until).where(User.username == "a-planner"))
    view = services.unlock_user(admin, "a-planner")
    assert view.locked_until is None
    unlocked = [e for e in events(services, "org-a") if e[0] == "user.unlocked"]
    assert len(unlocked) == 1 and unlocked[0][1] == "a-admin"
    assert unlocked[0][2]["username"] == "a-planner"
    assert unlocked[0][2]["locked_until"] == locked_until.isoformat()
    # Failures before an unlock no longer count: two runs one short of a lock, an unlock between.
    for run in range(2):
        for _ in range(MAX_FAILED_LOGINS - 1):
            with pytest.raises(AuthenticationError):
                services.authenticate("a-planner", "wrong password")
        if run == 0:
            services.unlock_user(admin, "a-planner")
    assert services.authenticate("a-planner", TEST_PASSWORD).username == "a-planner"
    assert all(r.ok for r in audit.verify_database(services.engine))


def test_the_command_line_operator_may_reset_a_password(services, admin, planner):
    system = services.system_actor("org-a")
    services.set_user_password(system, "a-planner", NEW_PASSWORD)
    assert services.authenticate("a-planner", NEW_PASSWORD).username == "a-planner"
    assert events(services, "org-a")[-2][:2] == ("user.password_reset", "system")


def test_an_administrator_cannot_deactivate_their_own_account(services, admin):
    from procurement.errors import WorkflowError

    with pytest.raises(WorkflowError) as refused:
        services.set_user_active(admin, admin.username, False)
    assert refused.value.params == {"self_account": admin.username}
    assert services.authenticate(admin.username, TEST_PASSWORD).username == admin.username


def test_the_last_active_administrator_cannot_be_deactivated(services, admin):
    from procurement.errors import WorkflowError

    services.create_user(admin, "org-b", "b-admin", "管理者B", TEST_PASSWORD, ["admin"])
    b_admin = services.actor_for("b-admin")
    # Two administrators: one may deactivate the other ...
    services.set_user_active(admin, "b-admin", False)
    services.set_user_active(admin, "b-admin", True)
    # ... but not once it would leave none (the command-line operator is no account).
    services.set_user_active(b_admin, admin.username, False)
    with pytest.raises(WorkflowError) as refused:
        services.set_user_active(services.system_actor("org-b"), "b-admin", False)
    assert refused.value.params == {"last_admin": "b-admin"}


def test_a_deactivated_account_writes_nothing_even_with_an_actor_from_before(services, admin,
                                                                            planner):
    from procurement.errors import PermissionDeniedError

    case = services.create_case(planner, "試行", "総務課")
    services.set_user_active(admin, planner.username, False)
    with pytest.raises(PermissionDeniedError) as refused:
        services.save_answers(planner, case.id, {"SC-1": "yes"}, case.version)
    assert refused.value.params["account"] == "inactive"
    from procurement.db.models import Answer

    with services.engine.connect() as conn:
        stored = conn.execute(select(Answer).where(Answer.case_id == case.id)).all()
    assert stored == []


def test_a_role_taken_away_since_sign_in_no_longer_allows_the_write(services, admin, planner):
    from procurement.db.models import User
    from procurement.errors import PermissionDeniedError

    case = services.create_case(planner, "試行", "総務課")
    with services.engine.begin() as conn:  # the role was changed by another session
        conn.execute(User.__table__.update().where(User.__table__.c.username == planner.username)
                     .values(roles="auditor"))
    with pytest.raises(PermissionDeniedError):
        services.save_answers(planner, case.id, {"SC-1": "yes"}, case.version)
