"""Accounts: signing in, the first administrator, and the administration of users.

Administrators administer the installation (any organisation's users); events about a user are
recorded in that user's organisation's chain. Passwords are stored as scrypt hashes
(`procurement.records.security`) and never appear in an event or an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from procurement.db.models import Organisation, User
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
from procurement.records.views import Actor, UserView, actor_of, user_view

#: Failed sign-ins in a row that lock an account, and for how long.
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=15)


class AccountService(ServiceCore):
    """Signing in and administering accounts."""

    def has_users(self) -> bool:
        """Whether any user exists (the app offers first-admin setup otherwise)."""
        with self.read() as s:
            return bool(s.scalar(select(func.count()).select_from(User)))

    def authenticate(self, username: str, password: str) -> Actor:
        """The actor for valid credentials; AuthenticationError otherwise (locks after failures)."""
        with self._transaction() as s:
            now = self.now()
            # FOR UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises): two failed
            # attempts at once must both count.
            user = s.scalar(select(User).where(User.username == username).with_for_update())
            if user is None or not user.is_active:
                dummy_verify(password)
                raise AuthenticationError("wrong username or password", username=username)
            org = s.get(Organisation, user.org_id)
            assert org is not None
            if user.locked_until is not None and user.locked_until > now:
                raise AuthenticationError(
                    f"account {username} is locked until {user.locked_until.isoformat()}",
                    username=username, locked_until=user.locked_until,
                )
            actor = actor_of(user, org)
            uow_payload: dict[str, Any]
            if not verify_password(password, user.password_hash):
                user.failed_logins += 1
                uow_payload = {"username": username, "failed_logins": user.failed_logins}
                locked_until = None
                if user.failed_logins >= MAX_FAILED_LOGINS:
                    user.locked_until = locked_until = now + LOCK_DURATION
                    user.failed_logins = 0
                    uow_payload["locked_until"] = locked_until.isoformat()
                _append(s, actor, now, "auth.locked" if locked_until else "auth.failed", uow_payload)
            else:
                user.failed_logins = 0
                user.locked_until = None
                user.last_login_at = now
                _append(s, actor, now, "auth.signed_in", {"username": username})
                return actor
        # The failure is committed (counted and logged) before the error surfaces.
        if locked_until is not None:
            raise AuthenticationError(
                f"too many failed sign-ins: account {username} is locked until "
                f"{locked_until.isoformat()}", username=username, locked_until=locked_until,
            )
        raise AuthenticationError("wrong username or password", username=username)

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
        password: str, pack_ref: str | None = None,
    ) -> Actor:
        """Set up an empty installation: its first organisation and administrator."""
        with self._transaction() as s:
            now = self.now()
            if s.scalar(select(func.count()).select_from(User)):
                raise WorkflowError("users already exist: sign in as an administrator")
            org = new_org(s, org_code, org_name, org_kind, exact_pack_ref(self.registry, pack_ref), now)
            user = new_user(s, org, username, display_name, password, ["admin"], now)
            actor = actor_of(user, org)
            _append(s, actor, now, "org.created", org_payload(org))
            _append(s, actor, now, "user.created", user_payload(user))
            return actor

    def create_user(
        self, actor: Actor, org_code: str, username: str, display_name: str, password: str,
        roles: Iterable[str],
    ) -> UserView:
        """A new user of `org_code` (admin of the installation)."""
        with self.unit_of_work(actor, "user.manage") as uow:
            org = org_by_code(uow.session, org_code)
            user = new_user(uow.session, org, username, display_name, password, roles, uow.now)
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
                user.failed_logins = 0
                user.locked_until = None
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
            user.failed_logins = 0
            user.locked_until = None
            uow.audit("user.password_reset", None, {"username": user.username}, org=org)
            return user_view(user, org)

    def unlock_user(self, actor: Actor, username: str) -> UserView:
        """Lift a sign-in lock before it expires (admin); the failure count starts again at 0."""
        with self.unit_of_work(actor, "user.manage") as uow:
            user = _user_by_name(uow.session, username)
            org = _org_of(uow.session, user)
            was_locked_until = user.locked_until
            user.failed_logins = 0
            user.locked_until = None
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
    role_list = sorted(set(roles or ()))
    bad = [r for r in role_list if r not in policy.ROLES]
    if not role_list or bad:
        raise InputError(f"roles {role_list!r}: give one or more of {', '.join(policy.ROLES)}",
                         field="roles", value=role_list)
    check_password(password)
    if s.scalar(select(User.id).where(User.username == username)) is not None:
        raise InputError(f"username {username!r} is already taken", field="username", value=username)
    user = User(org_id=org.id, username=username, display_name=display_name,
                password_hash=hash_password(password), roles=",".join(role_list), is_active=True,
                failed_logins=0, created_at=now)
    s.add(user)
    try:
        s.flush()
    except IntegrityError as exc:
        raise ConflictError(f"username {username!r} was just taken", value=username) from exc
    return user


def user_payload(user: User) -> dict[str, Any]:
    # Never the password or its hash.
    return {"username": user.username, "display_name": user.display_name,
            "roles": user.roles.split(",")}


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
