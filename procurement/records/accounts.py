"""Accounts: signing in, the first administrator, and the administration of users.

Administrators administer the installation (any organisation's users); events about a user are
recorded in that user's organisation's chain. Passwords are stored as scrypt hashes
(`procurement.records.security`) and never appear in an event or an error.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from procurement.db.models import InstallationState, Organisation, SignInAttempt, User
from procurement.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    WorkflowError,
)
from procurement.records import checks, policy
from procurement.records.core import ServiceCore
from procurement.records.organisations import exact_pack_ref, new_org, org_by_code, org_payload
from procurement.records.security import (
    MIN_PASSWORD_LENGTH,
    dummy_verify,
    hash_password,
    verify_password,
)
from procurement.records.sessions import revoke_user_sessions, token_hash
from procurement.records.views import Actor, UserView, actor_of, user_view

#: Failed sign-ins in a row from one client that lock that client out of the account, and for
#: how long.
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)
#: Failed sign-ins from one client, across usernames, within LOCK_DURATION that lock the client
#: out of every account (password spraying).
MAX_CLIENT_FAILURES = 20
#: Failure records older than this are forgotten.
ATTEMPT_RETENTION = timedelta(days=1)


class AccountService(ServiceCore):
    """Signing in and administering accounts."""

    def has_users(self) -> bool:
        """Whether any user exists (the app offers first-admin setup otherwise)."""
        with self.read() as s:
            return bool(s.scalar(select(func.count()).select_from(User)))

    def authenticate(self, username: str, password: str, *, client: str = "") -> Actor:
        """The actor for valid credentials; AuthenticationError otherwise.

        Every failure looks the same from outside: one message, no parameter telling an unknown
        name, a wrong password and a locked account apart, and one scrypt verification on every
        path so that they take about as long. Failures are counted per (username, client
        address): `MAX_FAILED_LOGINS` in a row lock that client out of that account for
        `LOCK_DURATION`, and `MAX_CLIENT_FAILURES` from one client across usernames (password
        spraying) lock that client out of every account for as long. Another client, such as
        the administrator at their own desk, is never locked out by an outsider's failures; an
        administrator can lift every lock of an account (`unlock_user`).
        """
        client = (client or "")[:100]
        valid_name = isinstance(username, str) and _is_username(username)
        with self._transaction() as s:
            now = self.now()
            attempt = None
            if valid_name:
                attempt = s.scalar(select(SignInAttempt).where(
                    SignInAttempt.client == client, SignInAttempt.username == username
                ).with_for_update())
            blocked = (attempt is not None and attempt.locked_until is not None
                       and attempt.locked_until > now) or _client_blocked(s, client, now)
            user = (s.scalar(select(User).where(User.username == username).with_for_update())
                    if valid_name else None)
            if blocked or user is None or not user.is_active:
                dummy_verify(password)
                ok = False
            else:
                ok = verify_password(password, user.password_hash)
            if ok and user is not None:
                org = s.get(Organisation, user.org_id)
                assert org is not None
                if attempt is not None:
                    s.delete(attempt)
                user.last_login_at = now
                actor = actor_of(user, org)
                _append(s, actor, now, "auth.signed_in", {"username": username, "client": client})
                return actor
            if valid_name and not blocked:
                _count_failure(s, user, attempt, username, client, now)
        raise AuthenticationError("sign-in failed: wrong username or password, or too many "
                                  "failed attempts", reason="sign_in_failed")

    def actor_for(self, username: str, *, via: str = "app") -> Actor:
        """The actor of an existing active user, without a password: for the CLI, the demo and
        tests (trusted code with database access). The UI signs in with `authenticate`."""
        with self.read() as s:
            user = s.scalar(select(User).where(User.username == username))
            if user is None or not user.is_active:
                raise NotFoundError(f"no active user {username!r}", kind="user", id=username)
            org = s.get(Organisation, user.org_id)
            assert org is not None
            return actor_of(user, org, via)

    def system_actor(self, org_code: str) -> Actor:
        """The operator at the command line, acting as an administrator of `org_code`."""
        with self.read() as s:
            org = org_by_code(s, org_code)
            return Actor(None, "system", "system", org.id, org.code, frozenset({"admin"}), "cli")

    def installation_operator(self) -> Actor:
        """The operator at the command line acting for the whole installation: an administrator
        who belongs to no organisation (it reads every organisation; it owns no case)."""
        return Actor(None, "system", "system", 0, "installation", frozenset({"admin"}), "cli")

    def create_first_admin(
        self, org_code: str, org_name: str, org_kind: str, username: str, display_name: str,
        password: str, pack_ref: str | None = None, *, setup_token: str | None = None,
    ) -> Actor:
        """Set up an empty installation: its first organisation and administrator.

        From the app, `setup_token` must be the one-time token printed by the process that made
        it (`ensure_setup_token`) or by `procurement setup-token`; it is consumed. Scripts with
        database access (tests, the demo) may omit it. Exactly one first administrator is ever
        created: setups are serialised on the installation row, also on PostgreSQL.
        """
        exact = exact_pack_ref(self.registry, pack_ref)
        with self._transaction() as s:
            now = self.now()
            state = s.get(InstallationState, 1, with_for_update=True)
            if s.scalar(select(func.count()).select_from(User)):
                raise WorkflowError("users already exist: sign in as an administrator",
                                    reason="already_set_up")
            if setup_token is not None:
                if (state is None or not state.setup_token_hash
                        or not hmac.compare_digest(state.setup_token_hash,
                                                   token_hash(setup_token.strip()))):
                    raise InputError("the setup token is not valid; use the one printed by the "
                                     "server, or make a new one with `procurement setup-token`",
                                     field="setup_token")
            if state is not None:
                state.setup_token_hash = None
                state.setup_token_created_at = None
            org = new_org(s, org_code, org_name, org_kind, exact, now)
            user = new_user(s, org, username, display_name, password, ["admin"], now)
            actor = actor_of(user, org)
            _append(s, actor, now, "org.created", org_payload(org))
            _append(s, actor, now, "user.created", user_payload(user))
            return actor

    def ensure_setup_token(self) -> str | None:
        """On an installation without users and without a setup token: make one, store its hash
        and return it for this process to print (as Jupyter prints its token). None when users
        exist or another process already made one (`procurement setup-token` makes a new one)."""
        token = secrets.token_urlsafe(18)
        with self._transaction() as s:
            if s.scalar(select(func.count()).select_from(User)):
                return None
            state = s.get(InstallationState, 1, with_for_update=True)
            if state is None or state.setup_token_hash:
                return None
            state.setup_token_hash = token_hash(token)
            state.setup_token_created_at = self.now()
            return token

    def new_setup_token(self) -> str:
        """A new one-time setup token (replacing any other); WorkflowError once users exist."""
        token = secrets.token_urlsafe(18)
        with self._transaction() as s:
            if s.scalar(select(func.count()).select_from(User)):
                raise WorkflowError("the installation is already set up: sign in as an "
                                    "administrator", reason="already_set_up")
            state = s.get(InstallationState, 1, with_for_update=True)
            assert state is not None  # created by migration 0003
            state.setup_token_hash = token_hash(token)
            state.setup_token_created_at = self.now()
        return token

    def set_user_email(self, actor: Actor, username: str, email: str | None) -> UserView:
        """Set or clear an account's e-mail address (admin)."""
        address = checks.email(email)
        with self.unit_of_work(actor, "user.manage") as uow:
            user = _user_by_name(uow.session, username)
            org = _org_of(uow.session, user)
            if user.email != address:
                uow.audit("user.email_set", None, {"username": username, "old": user.email,
                                                   "new": address}, org=org)
                user.email = address
            return user_view(user, org)

    def set_user_roles(self, actor: Actor, username: str, roles: Iterable[str]) -> UserView:
        """Change an account's roles (admin). Its open sessions end: the holder signs in again
        and sees what the new roles allow. The last active administrator keeps the admin role."""
        with self.unit_of_work(actor, "user.manage") as uow:
            user = _user_by_name(uow.session, username)
            role_list = _roles(roles)
            old = [r for r in user.roles.split(",") if r]
            if ("admin" in old and "admin" not in role_list and user.is_active
                    and not _other_active_admins(uow.session, user)):
                raise WorkflowError(f"{username} is the last active administrator",
                                    last_admin=username)
            org = _org_of(uow.session, user)
            if old != role_list:
                user.roles = ",".join(role_list)
                revoke_user_sessions(uow, user, "roles_changed")
                uow.audit("user.roles_changed", None,
                          {"username": username, "old": old, "new": role_list}, org=org)
            return user_view(user, org)

    def create_user(
        self, actor: Actor, org_code: str, username: str, display_name: str, password: str,
        roles: Iterable[str], email: str | None = None,
    ) -> UserView:
        """A new user of `org_code` (admin of the installation); `email` is optional."""
        address = checks.email(email)
        with self.unit_of_work(actor, "user.manage") as uow:
            org = org_by_code(uow.session, org_code)
            user = new_user(uow.session, org, username, display_name, password, roles, uow.now)
            user.email = address
            uow.audit("user.created", None, user_payload(user), org=org)
            return user_view(user, org)

    def set_user_active(self, actor: Actor, username: str, is_active: bool) -> UserView:
        """Deactivate (or reactivate) an account (admin); records are kept.

        An administrator cannot deactivate their own account, nor the last active administrator:
        either would leave nobody able to manage the installation.
        """
        with self.unit_of_work(actor, "user.manage") as uow:
            user = _user_by_name(uow.session, username)
            if not is_active and user.is_active:
                if user.username == actor.username:
                    raise WorkflowError("an administrator cannot deactivate their own account",
                                        self_account=username)
                if "admin" in user.roles.split(",") and not _other_active_admins(uow.session, user):
                    raise WorkflowError(f"{username} is the last active administrator",
                                        last_admin=username)
            org = _org_of(uow.session, user)
            user.is_active = bool(is_active)
            if is_active:
                _clear_locks(uow.session, user)
            else:
                revoke_user_sessions(uow, user, "deactivated")
            uow.audit("user.activated" if is_active else "user.deactivated", None,
                      {"username": username}, org=org)
            return user_view(user, org)

    def set_user_password(self, actor: Actor, username: str, password: str) -> UserView:
        """Give an account a new password (admin of the installation), e.g. when it was forgotten.

        The failure count and any lock are cleared too: the holder of the new password must be
        able to sign in at once. The event names the account, never the password.
        """
        with self.unit_of_work(actor, "user.manage") as uow:
            user = _user_by_name(uow.session, username)
            check_password(password)
            org = _org_of(uow.session, user)
            user.password_hash = hash_password(password)
            _clear_locks(uow.session, user)
            revoke_user_sessions(uow, user, "password_reset")
            uow.audit("user.password_reset", None, {"username": user.username}, org=org)
            return user_view(user, org)

    def unlock_user(self, actor: Actor, username: str) -> UserView:
        """Lift a sign-in lock before it expires (admin); the failure count starts again at 0."""
        with self.unit_of_work(actor, "user.manage") as uow:
            user = _user_by_name(uow.session, username)
            org = _org_of(uow.session, user)
            was_locked_until = user.locked_until
            _clear_locks(uow.session, user)
            uow.audit("user.unlocked", None, {
                "username": user.username,
                "locked_until": was_locked_until.isoformat() if was_locked_until else None,
            }, org=org)
            return user_view(user, org)

    def list_users(self, actor: Actor, org_code: str | None = None) -> list[UserView]:
        """Users of one organisation (or all, for an admin); non-admins see their own org only."""
        with self.read() as s:
            stmt = select(User, Organisation).join(Organisation, User.org_id == Organisation.id)
            if not actor.has_role("admin"):
                if org_code not in (None, actor.org_code):
                    raise NotFoundError(f"organisation {org_code!r} not found",
                                        kind="organisation", id=org_code)
                stmt = stmt.where(User.org_id == actor.org_id)
            elif org_code is not None:
                org_by_code(s, org_code)
                stmt = stmt.where(Organisation.code == org_code)
            stmt = stmt.order_by(Organisation.code, User.username)
            return [user_view(u, o) for u, o in s.execute(stmt)]


# --------------------------------------------------------------------------------------------


def _append(s: Session, actor: Actor, now: Any, event_type: str, payload: dict[str, Any]) -> None:
    """An event in the actor's chain, in a transaction opened without actor checks (signing in,
    first-run setup): the same write as `UnitOfWork.audit`."""
    from procurement.records.core import UnitOfWork

    UnitOfWork(s, actor, now).audit(event_type, None, payload)


def _roles(roles: Iterable[str]) -> list[str]:
    role_list = sorted(set(roles or ()))
    bad = [r for r in role_list if r not in policy.ROLES]
    if not role_list or bad:
        raise InputError(f"roles {role_list!r}: give one or more of {', '.join(policy.ROLES)}",
                         field="roles", value=role_list)
    return role_list


def check_password(password: Any) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
                         field="password", min_length=MIN_PASSWORD_LENGTH)
    if len(password) > 1024:
        raise InputError("the password may have at most 1024 characters", field="password",
                         max_length=1024)


def new_user(s: Session, org: Organisation, username: Any, display_name: Any, password: Any,
             roles: Iterable[str], now: Any) -> User:
    """A new account of `org`, checked (username, display name, roles, password)."""
    username = checks.username(username)
    display_name = checks.text(display_name, "display_name",
                               max_length=checks.DISPLAY_NAME_MAX_LENGTH)
    role_list = _roles(roles)
    check_password(password)
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        raise InputError(f"username {username!r} is already taken", field="username", value=username)
    user = User(org_id=org.id, username=username, display_name=display_name,
                password_hash=hash_password(password), roles=",".join(role_list), is_active=True,
                created_at=now)
    s.add(user)
    try:
        s.flush()
    except IntegrityError as exc:
        raise ConflictError(f"username {username!r} was just taken", value=username) from exc
    return user


def user_payload(user: User) -> dict[str, Any]:
    # Never the password or its hash.
    payload: dict[str, Any] = {"username": user.username, "display_name": user.display_name,
                               "roles": user.roles.split(",")}
    if user.email:
        payload["email"] = user.email
    return payload


def _is_username(value: str) -> bool:
    try:
        checks.username(value)
    except InputError:
        return False
    return True


def _client_blocked(s: Session, client: str, now: datetime) -> bool:
    """Whether `client` failed MAX_CLIENT_FAILURES times across usernames within LOCK_DURATION."""
    recent = s.scalar(select(func.coalesce(func.sum(SignInAttempt.failures), 0)).where(
        SignInAttempt.client == client, SignInAttempt.updated_at > now - LOCK_DURATION))
    locked = s.scalar(select(func.count()).select_from(SignInAttempt).where(
        SignInAttempt.client == client, SignInAttempt.locked_until > now))
    return int(recent or 0) + MAX_FAILED_LOGINS * int(locked or 0) >= MAX_CLIENT_FAILURES


def _count_failure(s: Session, user: User | None, attempt: SignInAttempt | None, username: str,
                   client: str, now: datetime) -> None:
    """Count one failure of (username, client); lock that pair after MAX_FAILED_LOGINS. Recorded
    in the account's chain when the account exists."""
    s.execute(delete(SignInAttempt).where(SignInAttempt.updated_at < now - ATTEMPT_RETENTION))
    if attempt is None:
        attempt = SignInAttempt(username=username, client=client, failures=0, updated_at=now)
        s.add(attempt)
    attempt.failures += 1
    attempt.updated_at = now
    payload: dict[str, Any] = {"username": username, "client": client,
                               "failed_logins": attempt.failures}
    locked = attempt.failures >= MAX_FAILED_LOGINS
    if locked:
        attempt.locked_until = now + LOCK_DURATION
        attempt.failures = 0
        payload["locked_until"] = attempt.locked_until.isoformat()
        if user is not None:
            user.locked_until = attempt.locked_until
    if user is None:  # an unknown name has no chain: the failure is only counted
        return
    org = s.get(Organisation, user.org_id)
    assert org is not None
    if locked:
        _append(s, actor_of(user, org), now, "auth.locked", payload)
    else:
        _append(s, actor_of(user, org), now, "auth.failed", payload)


def _clear_locks(s: Session, user: User) -> None:
    """Forget every failure and lock of the account, from every client."""
    s.execute(delete(SignInAttempt).where(SignInAttempt.username == user.username))
    user.locked_until = None


def _other_active_admins(s: Session, user: User) -> int:
    """How many active administrators there are besides `user`."""
    others = s.scalars(select(User.roles).where(User.is_active.is_(True), User.id != user.id))
    return sum(1 for roles in others if "admin" in roles.split(","))


def _user_by_name(s: Session, username: str) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"user {username!r} not found", kind="user", id=username)
    return user


def _org_of(s: Session, user: User) -> Organisation:
    org = s.get(Organisation, user.org_id)
    assert org is not None  # foreign key
    return org
