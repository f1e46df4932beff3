"""Organisations and the rule pack each one uses for its new cases.

An organisation either has an explicit pack, stored exactly as `id@x.y.z#fingerprint-prefix`
(never a range: a newer version is used only after a pack admin of that organisation adopts
it), or none, meaning "the national edition in force on the case date". `set_org_pack` is the
one function that changes the choice; `pin_stored_pack_refs` pins choices stored as ranges by
earlier versions of the app, once, at start-up (`procurement.runtime.open_services`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from procurement import fiscal
from procurement.db.models import Organisation
from procurement.errors import ConflictError, InputError, NotFoundError, ProcurementError
from procurement.packs import PackRegistry, ResolvedPack
from procurement.records import checks, policy
from procurement.records.core import ServiceCore, UnitOfWork
from procurement.records.views import Actor, OrgView, org_view

#: The national pack chosen by date when neither the case nor its organisation names one.
NATIONAL_PACK_ID = "jp-national"


class OrganisationService(ServiceCore):
    """Organisations and their pack choice."""

    def create_org(
        self, actor: Actor, code: str, name: str, kind: str, pack_ref: str | None = None,
    ) -> OrgView:
        """A new organisation (admin). Its events start a chain named `code`."""
        policy.require(actor, "org.manage")
        exact = exact_pack_ref(self.registry, pack_ref)
        with self.unit_of_work(actor, "org.manage") as uow:
            org = new_org(uow.session, code, name, kind, exact, uow.now)
            # The new organisation's own chain records its creation; the creator's chain too.
            uow.audit("org.created", None, org_payload(org), org=org)
            if actor.org_code != org.code:
                uow.audit("org.created", None, org_payload(org))
            return org_view(org)

    def set_org_pack(self, actor: Actor, org_code: str, pack_ref: str | None) -> OrgView:
        """Make `pack_ref` the pack of `org_code`'s new cases (None: the national edition in
        force on the case date). A pack_admin chooses for their own organisation, an
        administrator for any. The exact version and fingerprint are stored, and the change is
        recorded (event `org.pack_set`) in that organisation's chain."""
        policy.require(actor, "pack.select")
        if org_code != actor.org_code and not actor.has_role("admin"):
            raise NotFoundError(f"organisation {org_code!r} not found", kind="organisation",
                                id=org_code)
        exact = exact_pack_ref(self.registry, pack_ref)
        with self.unit_of_work(actor, "pack.select") as uow:
            org = org_by_code(uow.session, org_code)
            _set_pack(uow, org, exact)
            return org_view(org)

    def pin_stored_pack_refs(self) -> list[tuple[str, str, str]]:
        """Pin every organisation's pack choice stored as a range (`city-strict`,
        `jp-national@2`) or without a fingerprint to the exact version it resolves to now;
        recorded in each organisation's chain (`org.pack_set`, `reason: pinned`). Run once at
        start-up; returns (code, old, new) for what it pinned. A choice naming a pack that no
        longer resolves is left as it is (reported by `procurement doctor`)."""
        pinned: list[tuple[str, str, str]] = []
        with self.read() as s:
            stored = [(o.code, o.pack_ref) for o in s.scalars(select(Organisation))
                      if o.pack_ref and not _is_exact(o.pack_ref)]
        for code, ref in stored:
            try:
                exact = self.registry.resolve(ref).ref
            except ProcurementError:
                continue
            with self._transaction() as session:
                org = org_by_code(session, code)
                if org.pack_ref != ref:  # changed meanwhile by another process
                    continue
                operator = Actor(None, "system", "system", org.id, org.code,
                                 frozenset({"admin"}), "startup")
                _set_pack(UnitOfWork(session, operator, self.now()), org, exact,
                          reason="pinned")
            pinned.append((code, ref, exact))
        return pinned

    def list_orgs(self, actor: Actor) -> list[OrgView]:
        """All organisations for an admin; the actor's own otherwise."""
        with self.read() as s:
            stmt = select(Organisation).order_by(Organisation.code)
            if not actor.has_role("admin"):
                stmt = stmt.where(Organisation.id == actor.org_id)
            return [org_view(o) for o in s.scalars(stmt)]

    def get_org(self, actor: Actor, code: str) -> OrgView:
        """One organisation (admins: any; others: their own)."""
        with self.read() as s:
            org = org_by_code(s, code)
            if org.id != actor.org_id and not actor.has_role("admin"):
                raise NotFoundError(f"organisation {code!r} not found", kind="organisation", id=code)
            return org_view(org)

    def resolve_pack(self, org_code: str, pack_ref: str | None = None,
                     on: date | None = None) -> ResolvedPack:
        """The pack a new case uses: `pack_ref`, else the organisation's, else the national
        edition in force on `on` (the JST date of the service clock by default)."""
        with self.read() as s:
            org = org_by_code(s, org_code)
        return pack_for(self.registry, org, pack_ref, on or fiscal.to_jst(self.now()).date())


def _is_exact(ref: str) -> bool:
    return "#" in ref and ref.split("#", 1)[0].count(".") == 2


def _set_pack(uow: UnitOfWork, org: Organisation, exact: str | None, *,
              reason: str | None = None) -> None:
    old = org.pack_ref
    org.pack_ref = exact
    payload: dict[str, Any] = {"code": org.code, "old": old, "new": exact}
    if reason:
        payload["reason"] = reason
    uow.audit("org.pack_set", None, payload, org=org)


def exact_pack_ref(registry: PackRegistry, ref: str | None, where: str = "pack_ref") -> str | None:
    """The exact reference (`id@x.y.z#fingerprint-prefix`) of what `ref` resolves to now;
    InputError naming `where` when it resolves to nothing."""
    if ref is None:
        return None
    return resolve_ref(registry, ref, where).ref


def resolve_ref(registry: PackRegistry, ref: Any, where: str) -> ResolvedPack:
    """The pack `ref` names; InputError naming `where` when it names none."""
    if not isinstance(ref, str):
        raise InputError(f"{where} must be a pack reference such as 'jp-national@2'",
                         field=where, value=repr(ref)[:100])
    try:
        return registry.resolve(ref)
    except ProcurementError as exc:
        raise InputError(f"{where}: unknown rule pack {ref!r} ({exc.message})",
                         field=where, value=ref) from exc


def national_edition_on(registry: PackRegistry, on: date) -> ResolvedPack:
    """The newest `jp-national` edition whose `effective_from` is on or before `on`. Among
    versions in force from the same day the highest version wins."""
    candidates = [p for p in registry.versions(NATIONAL_PACK_ID)
                  if p.effective_from is not None and p.effective_from <= on]
    if not candidates:
        raise NotFoundError(f"no {NATIONAL_PACK_ID} edition is in force on {on.isoformat()}",
                            kind="pack", id=NATIONAL_PACK_ID, on=on.isoformat())
    return max(candidates, key=lambda p: (p.effective_from, p.version_tuple))


def pack_for(registry: PackRegistry, org: Organisation, pack_ref: str | None,
             on: date) -> ResolvedPack:
    """The pack for a new case of `org`: the explicit `pack_ref`, else the organisation's
    choice, else the national edition in force on `on`."""
    if pack_ref:
        return resolve_ref(registry, pack_ref, "pack")
    if org.pack_ref:
        return resolve_ref(registry, org.pack_ref, f"organisation {org.code}")
    return national_edition_on(registry, on)


def org_by_code(s: Session, code: str) -> Organisation:
    org = s.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise NotFoundError(f"organisation {code!r} not found", kind="organisation", id=code)
    return org


def new_org(s: Session, code: Any, name: Any, kind: Any, pack_ref: str | None,
            now: datetime) -> Organisation:
    """A new organisation, checked (code, name, kind; `pack_ref` already exact)."""
    code = checks.code(code)
    name = checks.text(name, "name", max_length=checks.ORG_NAME_MAX_LENGTH)
    if kind not in policy.ORG_KINDS:
        raise InputError(f"organisation kind {kind!r} is not one of {', '.join(policy.ORG_KINDS)}",
                         field="kind", value=kind)
    if s.scalar(select(Organisation.id).where(Organisation.code == code)) is not None:
        raise InputError(f"organisation code {code!r} is already taken", field="code", value=code)
    org = Organisation(code=code, name=name, kind=kind, pack_ref=pack_ref, created_at=now)
    s.add(org)
    try:
        s.flush()
    except IntegrityError as exc:
        raise ConflictError(f"organisation code {code!r} was just taken", code_value=code) from exc
    return org


def org_payload(org: Organisation) -> dict[str, Any]:
    return {"code": org.code, "name": org.name, "kind": org.kind, "pack_ref": org.pack_ref}
