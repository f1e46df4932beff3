"""Who may do what, in which status: the one place role and status sets live.

Every permission is a named action (`case.edit`, `incident.close`, ...) mapped to the roles that
may perform it; services check actions, pages ask `may(...)` to decide what to show. Status sets
are named for what they mean, so two modules can no longer give one name two meanings.

    may(actor, "case.approve") -> bool
    require(actor, "case.approve")          # PermissionDeniedError naming the roles needed
    roles_for("portfolio.read") -> frozenset[str]
"""

from __future__ import annotations

from typing import Protocol

from procurement.errors import PermissionDeniedError

#: Every role an account may hold.
ROLES: tuple[str, ...] = ("planner", "reviewer", "auditor", "pack_admin", "admin")
#: Kinds of organisation.
ORG_KINDS: tuple[str, ...] = ("ministry", "municipality")

#: Every status of a case, in workflow order.
CASE_STATUSES: tuple[str, ...] = (
    "draft", "submitted", "returned", "approved", "withdrawn", "in_operation", "retired",
)
#: Statuses of a checklist item.
CHECKLIST_STATUSES: tuple[str, ...] = ("met", "not_met", "not_applicable", "pending")
#: Checklist statuses that settle an item for submission (not_applicable needs a reason).
SETTLED_CHECKLIST_STATUSES = frozenset({"met", "not_applicable"})
#: Kinds of decision recorded on a case.
DECISION_KINDS: tuple[str, ...] = (
    "classification", "submission", "return", "approval", "withdrawal", "reassessment", "void",
)

#: Statuses in which answers, checklist and board report may be edited.
EDITABLE_STATUSES = frozenset({"draft", "returned", "approved", "in_operation"})
#: Statuses from which a planner submits a case for review.
SUBMITTABLE_STATUSES = frozenset({"draft", "returned"})
#: Statuses holding an approval in force: a later change (or a re-assessment whose obligations
#: grew) voids it. A running system keeps running; the portfolio flags it until approved again.
HOLDS_APPROVAL_STATUSES = frozenset({"approved", "in_operation"})
#: Statuses of a case that was approved at some point and not withdrawn (running, retired).
EVER_APPROVED_STATUSES = frozenset({"approved", "in_operation", "retired"})
#: Statuses from which a case may be withdrawn.
WITHDRAWABLE_STATUSES = frozenset({"draft", "returned", "submitted", "approved"})
#: Closed cases: they keep the pack they were closed under (re-assessment leaves them alone).
CLOSED_STATUSES = frozenset({"withdrawn", "retired"})
#: Statuses of a case that may have incidents: approved (e.g. a pilot), running or retired (a
#: leak can surface after the end).
INCIDENT_CASE_STATUSES = EVER_APPROVED_STATUSES
#: Statuses of an incident.
INCIDENT_STATUSES: tuple[str, ...] = ("open", "closed")

_PLANNER = frozenset({"planner"})
_REVIEWER = frozenset({"reviewer"})
_PACKS = frozenset({"pack_admin", "admin"})
_ADMIN = frozenset({"admin"})

#: action -> the roles that may perform it (holding any one of them is enough).
ACTIONS: dict[str, frozenset[str]] = {
    # cases (planners write their organisation's cases; reviewers decide)
    "case.create": _PLANNER,
    "case.edit": _PLANNER,
    "case.submit": _PLANNER,
    "case.withdraw": _PLANNER,
    "case.return": _REVIEWER,
    "case.approve": _REVIEWER,
    # the reviewer records the report or consultation a step of the case's pack asks for
    "case.consult": _REVIEWER,
    "case.import": _PLANNER,
    # systems in operation and their incidents
    "operation.read": frozenset({"planner", "reviewer", "auditor", "admin"}),
    "operation.write": frozenset({"planner", "reviewer"}),
    "incident.write": frozenset({"planner", "reviewer"}),
    "incident.close": _REVIEWER,
    # the CAIO's figures and reports, and the auditors' exports
    "portfolio.read": frozenset({"reviewer", "auditor", "admin"}),
    "export.read": frozenset({"reviewer", "auditor"}),
    # rule packs
    "pack.install": _PACKS,
    "pack.select": _PACKS,
    "reassess.apply": _PACKS,
    # the installation
    "org.manage": _ADMIN,
    "user.manage": _ADMIN,
    # the e-mail outbox: its state and retrying what failed
    "notify.manage": _ADMIN,
}


class HasRoles(Protocol):
    """Anything holding roles and a username (an `Actor`)."""

    @property
    def username(self) -> str: ...

    @property
    def roles(self) -> frozenset[str]: ...


def roles_for(action: str) -> frozenset[str]:
    """The roles that may perform `action` (KeyError for an unknown action: a typo in code)."""
    return ACTIONS[action]


def may(actor: HasRoles | None, action: str) -> bool:
    """Whether `actor` holds a role that may perform `action`."""
    return actor is not None and bool(actor.roles & ACTIONS[action])


def require(actor: HasRoles, action: str) -> None:
    """PermissionDeniedError unless `actor` may perform `action`."""
    if not may(actor, action):
        needed = sorted(ACTIONS[action])
        raise PermissionDeniedError(
            f"{actor.username} needs one of the roles {', '.join(needed)}",
            username=actor.username, needed=needed, roles=sorted(actor.roles), action=action,
        )


def is_read_only(actor: HasRoles) -> bool:
    """An actor holding only the auditor role reads and never writes."""
    return not actor.roles - {"auditor"}
