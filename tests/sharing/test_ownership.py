"""Packs are owned by their publisher (SQLite and PostgreSQL).

The attack, as tried against the first version: a pack admin of the ministry copies city-strict,
sets version 1.9.0, removes the four high-risk rules (with reasons), makes its one `high` test
expect `low` and installs it. The city's pack was stored as the range `city-strict`, so the
city's public, rights-affecting, conf2-training, unreviewed cases became low-risk, and the
installation was recorded only in the ministry's chain.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from procurement.config import rules_dir
from procurement.db.models import AuditEvent
from procurement.errors import NotFoundError, PermissionDeniedError
from procurement.sharing.bundles import Bundle, collect_pack_files

ATTACK_ANSWERS = {"SC-1": "yes", "SC-2": "no", "SC-3": "fy2026_or_later",
                  "SC-4": "contracted_saas", "HR-1": "public", "HR-2": "rights_affecting",
                  "HR-3": "conf2_training", "HR-4": "no_review", "LQ-1": "no"}


@pytest.fixture
def demo_services(engine, fast_password_hashing):
    """The demo on a fresh database, with a registry of its own (installing adds to it)."""
    from procurement.demo import seed_demo
    from procurement.packs import PackRegistry
    from procurement.services import Services

    svc = Services(engine, PackRegistry.discover())
    seed_demo(svc)
    return svc


def _bundle(files: dict[str, bytes], source: str) -> Bundle:
    return Bundle(files=dict(files), manifest=None, source=source)


def _weakened_city_strict() -> dict[str, bytes]:
    files = collect_pack_files(rules_dir() / "city-strict" / "v1")
    text = files["pack.yaml"].decode()
    text = text.replace("version: 1.0.0", "version: 1.9.0", 1)
    text += "\nremoves:\n" + "".join(
        f"  - {{id: R-HIGH-{i}, reason: {{ja: 不要, en: Not needed}}}}\n" for i in range(1, 5))
    tests = files["tests/city.yaml"].decode().replace("expect: {level: high, blocking: []}",
                                                      "expect: {level: low, blocking: []}")
    return {**files, "pack.yaml": text.encode(), "tests/city.yaml": tests.encode()}


def _chain_events(svc, chain: str, event_type: str) -> list[dict]:
    with svc.read() as s:
        return [json.loads(p) for p in s.scalars(
            select(AuditEvent.payload).where(AuditEvent.chain == chain,
                                             AuditEvent.event_type == event_type))]


def test_another_organisation_cannot_publish_a_version_of_the_citys_pack(demo_services):
    svc = demo_services
    # The city on the 1.x line the attack would slip a 1.9.0 into.
    svc.set_org_pack(svc.actor_for("city-packadmin"), "demo-city", "city-strict@1")
    attacker = svc.actor_for("ministry-packadmin")
    with pytest.raises(PermissionDeniedError) as refused:
        svc.install_pack(attacker, _bundle(_weakened_city_strict(), "city-strict-1.9.0.zip"))
    assert refused.value.params["reason"] == "pack_owner"
    assert "city-strict@1.9" not in svc.registry
    assert _chain_events(svc, "demo-ministry", "pack.installed") == []
    # The city's cases are still classified by the exact version the city chose.
    city_planner = svc.actor_for("city-planner")
    case = svc.create_case(city_planner, "住民向け判定支援", "市民課", answers=ATTACK_ANSWERS)
    assert case.pack_key == "city-strict@1.0.0" and case.level == "high"


def test_an_organisations_own_pack_never_changes_another_organisations_cases(demo_services):
    """The ministry may publish its own pack extending the national one; the city's choice is
    stored exactly, so nothing changes for the city until its own pack admin adopts something."""
    svc = demo_services
    ministry_admin = svc.actor_for("ministry-packadmin")
    files = _weakened_city_strict()
    files["pack.yaml"] = files["pack.yaml"].decode().replace(
        "id: city-strict", "id: ministry-lenient", 1).encode()
    view = svc.install_pack(ministry_admin, _bundle(files, "ministry-lenient.zip"))
    assert view.key == "ministry-lenient@1.9.0"
    installed = _chain_events(svc, "demo-ministry", "pack.installed")
    assert [e["pack_id"] for e in installed] == ["ministry-lenient"]
    assert installed[0]["owner"] == "demo-ministry"
    assert installed[0]["parent"].startswith("jp-national@2.0.0#")
    assert _chain_events(svc, "demo-city", "pack.installed") == []
    city_planner = svc.actor_for("city-planner")
    case = svc.create_case(city_planner, "住民向け判定支援", "市民課", answers=ATTACK_ANSWERS)
    assert case.pack_key == "city-strict@2.0.0" and case.level == "high"
    # The ministry's own pack admin may publish the next version of its own pack ...
    files["pack.yaml"] = files["pack.yaml"].decode().replace("version: 1.9.0", "version: 1.9.1",
                                                             1).encode()
    assert svc.install_pack(ministry_admin, _bundle(files, "next.zip")).key == \
        "ministry-lenient@1.9.1"
    # ... and the city's may not.
    city_admin = svc.actor_for("city-packadmin")
    files["pack.yaml"] = files["pack.yaml"].decode().replace("version: 1.9.1", "version: 1.9.2",
                                                             1).encode()
    with pytest.raises(PermissionDeniedError):
        svc.install_pack(city_admin, _bundle(files, "hijack.zip"))


def test_adopting_a_pack_is_the_adopting_organisations_act(demo_services):
    """Installing never changes anyone's choice; adoption is recorded in the adopting
    organisation's own chain, and only its pack admin (or an administrator) can do it."""
    svc = demo_services
    ministry_admin = svc.actor_for("ministry-packadmin")
    city_admin = svc.actor_for("city-packadmin")
    before = svc.get_org(city_admin, "demo-city").pack_ref
    with pytest.raises(NotFoundError):
        svc.set_org_pack(ministry_admin, "demo-city", "city-strict@2.0.0")
    assert svc.get_org(city_admin, "demo-city").pack_ref == before
    adopted = svc.set_org_pack(city_admin, "demo-city", "city-strict@2.0.0")
    assert adopted.pack_ref == svc.registry.resolve("city-strict@2.0.0").ref
    [event] = _chain_events(svc, "demo-city", "org.pack_set")[-1:]
    assert (event["old"], event["new"]) == (before, adopted.pack_ref)
