"""Accounts and organisations: sign-in with lockout, first admin, admin-only management."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from procurement.db.models import AuditEvent, User
from procurement.errors import (
    AuthenticationError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    WorkflowError,
)
from procurement.records.accounts import MAX_CLIENT_FAILURES
from procurement.services import LOCK_DURATION, MAX_FAILED_LOGINS
from tests.fixtures.services import TEST_PASSWORD


def test_first_admin_only_on_an_empty_installation(services):
    assert not services.has_users()
    actor = services.create_first_admin("org-x", "X省", "ministry", "root", "Root", TEST_PASSWORD)
    assert actor.roles == frozenset({"admin"}) and actor.org_code == "org-x"
    assert services.has_users()
    with pytest.raises(WorkflowError):
        services.create_first_admin("org-y", "Y", "ministry", "root2", "Root", TEST_PASSWORD)


def test_authenticate_returns_the_actor_and_records_the_sign_in(services, planner):
    actor = services.authenticate("a-planner", TEST_PASSWORD)
    assert actor == planner
    with services.read() as s:
        user = s.scalar(select(User).where(User.username == "a-planner"))
        assert user.last_login_at is not None
        types = list(s.scalars(select(AuditEvent.event_type).where(AuditEvent.chain == "org-a")))
    assert types[-1] == "auth.signed_in"


def test_unknown_user_and_wrong_password_give_the_same_error(services, planner):
    with pytest.raises(AuthenticationError) as unknown:
        services.authenticate("nobody", TEST_PASSWORD)
    with pytest.raises(AuthenticationError) as wrong:
        services.authenticate("a-planner", "wrong password")
    assert unknown.value.message == wrong.value.message
    assert unknown.value.params == wrong.value.params == {"reason": "sign_in_failed"}


def test_five_failures_lock_that_client_out_until_the_lock_expires(services, planner,
                                                                     service_clock):
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationError):
            services.authenticate("a-planner", "wrong password", client="198.51.100.7")
    with pytest.raises(AuthenticationError) as locked:
        services.authenticate("a-planner", "wrong password", client="198.51.100.7")
    # Even the right password is refused from that client while locked, with the same message
    # and parameters as any failure: nothing tells a lock from a wrong password or a bad name.
    with pytest.raises(AuthenticationError) as still:
        services.authenticate("a-planner", TEST_PASSWORD, client="198.51.100.7")
    with pytest.raises(AuthenticationError) as unknown:
        services.authenticate("nobody", TEST_PASSWORD, client="198.51.100.8")
    assert (locked.value.message, locked.value.params) == (still.value.message,
                                                            still.value.params)
    assert (still.value.message, still.value.params) == (unknown.value.message,
                                                          unknown.value.params)
    # ... and accepted once the lock has expired.
    with services.read() as s:
        until = s.scalar(select(User.locked_until).where(User.username == "a-planner"))
    service_clock.now = until + timedelta(seconds=1)
    assert services.authenticate("a-planner", TEST_PASSWORD,
                                 client="198.51.100.7").username == "a-planner"
    assert LOCK_DURATION >= timedelta(minutes=5)
    with services.read() as s:
        types = list(s.scalars(select(AuditEvent.event_type).where(AuditEvent.chain == "org-a")))
    assert types.count("auth.failed") == MAX_FAILED_LOGINS - 1 and "auth.locked" in types


def test_an_outsider_cannot_lock_an_administrator_out(services, admin):
    """The attack: anyone can type an administrator's name with wrong passwords forever. It locks
    out only the outsider's own client; the administrator signs in from theirs."""
    for _ in range(3 * MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationError):
            services.authenticate("a-admin", "guess", client="203.0.113.66")
    assert services.authenticate("a-admin", TEST_PASSWORD,
                                 client="192.0.2.10").username == "a-admin"
    with pytest.raises(AuthenticationError):  # the outsider, even with the right password
        services.authenticate("a-admin", TEST_PASSWORD, client="203.0.113.66")


def test_one_client_guessing_across_many_names_is_locked_out_of_every_account(services, planner,
                                                                               service_clock):
    """Password spraying: a few guesses at each of many names from one client, within minutes
    (the test clock moves a minute per reading: hold it)."""
    start = service_clock.now
    for i in range(MAX_CLIENT_FAILURES):
        service_clock.now = start
        with pytest.raises(AuthenticationError):
            services.authenticate(f"user{i}", "Summer2026!", client="203.0.113.99")
    service_clock.now = start
    with pytest.raises(AuthenticationError):
        services.authenticate("a-planner", TEST_PASSWORD, client="203.0.113.99")
    assert services.authenticate("a-planner", TEST_PASSWORD, client="192.0.2.20")


def test_deactivated_user_cannot_sign_in(services, admin, planner):
    services.set_user_active(admin, "a-planner", False)
    with pytest.raises(AuthenticationError):
        services.authenticate("a-planner", TEST_PASSWORD)
    services.set_user_active(admin, "a-planner", True)
    assert services.authenticate("a-planner", TEST_PASSWORD).username == "a-planner"


def test_passwords_never_reach_the_database_or_the_log(services, admin):
    services.create_user(admin, "org-a", "secretive", "S", "my clear secret", ["planner"])
    with services.engine.connect() as conn:
        dump = [str(r) for r in conn.exec_driver_sql("SELECT * FROM users")]
        dump += [str(r) for r in conn.exec_driver_sql("SELECT payload FROM audit_events")]
    assert not any("my clear secret" in row for row in dump)


def test_only_admins_manage_organisations_and_users(services, org_actors):
    for role in ("a-planner", "a-reviewer", "a-auditor", "a-packadmin"):
        actor = org_actors[role]
        with pytest.raises(PermissionDeniedError):
            services.create_org(actor, "org-z", "Z", "ministry")
        with pytest.raises(PermissionDeniedError):
            services.create_user(actor, "org-a", "new-user", "N", TEST_PASSWORD, ["planner"])
        with pytest.raises(PermissionDeniedError):
            services.set_user_active(actor, "a-planner2", False)
        if role != "a-packadmin":  # a pack admin chooses their own organisation's pack
            with pytest.raises(PermissionDeniedError):
                services.set_org_pack(actor, "org-a", None)
    assert [o.code for o in services.list_orgs(org_actors["a-admin"])] == ["org-a", "org-b"]
    assert "new-user" not in {u.username for u in services.list_users(org_actors["a-admin"])}


def test_non_admins_see_only_their_own_organisation(services, org_actors):
    planner = org_actors["a-planner"]
    assert [o.code for o in services.list_orgs(planner)] == ["org-a"]
    assert {u.org_code for u in services.list_users(planner)} == {"org-a"}
    with pytest.raises(NotFoundError):
        services.list_users(planner, "org-b")
    with pytest.raises(NotFoundError):
        services.get_org(planner, "org-b")
    admin = org_actors["a-admin"]
    assert [o.code for o in services.list_orgs(admin)] == ["org-a", "org-b"]
    assert {u.org_code for u in services.list_users(admin)} == {"org-a", "org-b"}


BAD_USERS = [
    ({"username": "has space"}, "username"),
    ({"roles": ["wizard"]}, "roles"),
    ({"roles": []}, "roles"),
    ({"password": "short"}, "password"),
    ({"display_name": " "}, "display_name"),
    ({"username": "a-planner"}, "username"),
]
BAD_ORGS = [
    (("Bad Code", "n", "ministry"), "code"),
    (("org-a", "n", "ministry"), "code"),
    (("org-n", "n", "prefecture"), "kind"),
    (("org-n", "", "ministry"), "name"),
]


def test_bad_user_and_org_input_names_the_field(services, admin, planner):
    for kwargs, field in BAD_USERS:
        args = {"org_code": "org-a", "username": "fresh", "display_name": "F",
                "password": TEST_PASSWORD, "roles": ["planner"], **kwargs}
        with pytest.raises(InputError) as err:
            services.create_user(admin, **args)
        assert err.value.params["field"] == field, kwargs
    for args, field in BAD_ORGS:
        with pytest.raises(InputError) as err:
            services.create_org(admin, *args)
        assert err.value.params["field"] == field, args
    assert "fresh" not in {u.username for u in services.list_users(admin)}


def test_org_pack_must_exist(services, admin):
    with pytest.raises(InputError) as err:
        services.create_org(admin, "org-n", "N", "municipality", pack_ref="no-such-pack@1")
    assert err.value.params["value"] == "no-such-pack@1"
    org = services.set_org_pack(admin, "org-b", "city-strict")
    # Pinned exactly (version and fingerprint), never the range given.
    assert org.pack_ref == services.registry.resolve("city-strict").ref
    assert "#" in org.pack_ref and org.pack_ref.split("#")[0].count(".") == 2


def test_admin_events_go_to_the_chain_of_the_organisation_changed(services, admin):
    services.create_user(admin, "org-b", "b-new", "N", TEST_PASSWORD, ["auditor"])
    with services.read() as s:
        last_b = s.scalars(select(AuditEvent).where(AuditEvent.chain == "org-b")
                           .order_by(AuditEvent.seq.desc())).first()
    assert last_b.event_type == "user.created" and last_b.actor == "a-admin"
    assert "b-new" in last_b.payload
