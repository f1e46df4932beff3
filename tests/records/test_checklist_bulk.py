"""Checklist items set in bulk (`Services.set_checklist_items`) and the evidence rule: one
transaction, one version bump, one event per item that changes; a batch with a bad item is
refused whole and names the item; `met` needs evidence unless the item says otherwise."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from procurement.db.models import AuditEvent, ChecklistResult
from procurement.demo import HIGH
from procurement.errors import InputError
from tests.fixtures.services import approve_recorded, submit_filled


def _events_after(svc, seq: int) -> list[AuditEvent]:
    with svc.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.chain == "org-a",
                                                        AuditEvent.seq > seq)
                              .order_by(AuditEvent.seq)))


def _last_seq(svc) -> int:
    with svc.read() as s:
        return s.scalar(select(AuditEvent.seq).where(AuditEvent.chain == "org-a")
                        .order_by(AuditEvent.seq.desc()).limit(1)) or 0


def test_a_batch_is_one_transaction_one_version_and_one_event_per_changed_item(services,
                                                                                planner):
    view = services.create_case(planner, "t", "d", answers=HIGH)
    view = services.set_checklist_item(planner, view.id, "PC-G3", "met", "仕様書 2 章",
                                       view.version)
    before = _last_seq(services)
    after = services.set_checklist_items(planner, view.id, {
        "PC-G1": ("met", "仕様書 3.2 節"),
        "PC-P1": ("not_met", ""),
        "PC-G3": ("met", "仕様書 2 章"),  # unchanged: no event
        "PC-Q1": ("not_applicable", "外部に出力しない"),
    }, view.version)
    assert after.version == view.version + 1
    assert {i: (e.status, e.evidence) for i, e in after.checklist.items()} == {
        "PC-G1": ("met", "仕様書 3.2 節"), "PC-P1": ("not_met", ""),
        "PC-G3": ("met", "仕様書 2 章"), "PC-Q1": ("not_applicable", "外部に出力しない")}
    events = _events_after(services, before)
    assert [(e.event_type, e.actor) for e in events] == [("case.checklist_set", "a-planner")] * 3
    import json

    payloads = [json.loads(e.payload) for e in events]
    assert [p["item_id"] for p in payloads] == ["PC-G1", "PC-P1", "PC-Q1"]
    assert payloads[0]["old"] is None and payloads[0]["new"] == {"status": "met",
                                                                "evidence": "仕様書 3.2 節"}


def test_nothing_changed_writes_nothing(services, planner):
    view = services.create_case(planner, "t", "d", answers=HIGH)
    view = services.set_checklist_items(planner, view.id, {"PC-G1": ("pending", "")},
                                        view.version)
    before = _last_seq(services)
    same = services.set_checklist_items(planner, view.id, {"PC-G1": ("pending", "")},
                                        view.version)
    assert same.version == view.version and _events_after(services, before) == []


def test_a_bad_item_refuses_the_whole_batch_and_names_it(services, planner):
    view = services.create_case(planner, "t", "d", answers=HIGH)
    before = _last_seq(services)
    with pytest.raises(InputError) as err:
        services.set_checklist_items(planner, view.id, {
            "PC-G1": ("met", "仕様書"), "PC-P1": ("met", "  "), "PC-Q1": ("pending", "")},
            view.version)
    assert err.value.params["item_id"] == "PC-P1" and err.value.params["field"] == "evidence"
    assert err.value.params["reason"] == "evidence_required"
    with pytest.raises(InputError) as err:
        services.set_checklist_items(planner, view.id, {"PC-G1": ("met", "仕様書"),
                                                        "XX-9": ("met", "x")}, view.version)
    assert err.value.params["value"] == "XX-9"
    with pytest.raises(InputError) as err:
        services.set_checklist_items(planner, view.id, {"PC-G1": ("done", "x")}, view.version)
    assert err.value.params["item_id"] == "PC-G1" and err.value.params["field"] == "status"
    with pytest.raises(InputError):
        services.set_checklist_items(planner, view.id, {"PC-G1": "met"}, view.version)
    stored = services.get_case(planner, view.id)
    assert stored.checklist == {} and stored.version == view.version
    assert _events_after(services, before) == []
    with services.read() as s:
        assert s.scalars(select(ChecklistResult)).all() == []


def test_met_needs_evidence_for_one_item_too(services, planner):
    view = services.create_case(planner, "t", "d", answers=HIGH)
    with pytest.raises(InputError) as err:
        services.set_checklist_item(planner, view.id, "PC-G1", "met", "", view.version)
    assert err.value.params["item_id"] == "PC-G1"
    # Other statuses need none (not_applicable's reason is a submission gap, not an input error).
    for status in ("pending", "not_met", "not_applicable"):
        view = services.set_checklist_item(planner, view.id, "PC-G1", status, "", view.version)
        assert view.checklist["PC-G1"].status == status


def test_an_item_without_evidence_required_may_be_met_without_evidence(services, planner):
    view = services.create_case(planner, "t", "d", pack_ref="example-impact")
    pack = services.registry.resolve(view.pack_ref)
    assert pack.item("EX-2").evidence_required is False
    view = services.set_checklist_items(planner, view.id, {"EX-2": ("met", "")}, view.version)
    assert view.checklist["EX-2"].status == "met"
    with pytest.raises(InputError):
        services.set_checklist_items(planner, view.id, {"EX-1": ("met", "")}, view.version)


def test_a_batch_on_an_approved_case_voids_the_approval_once(services, planner, reviewer):
    view = submit_filled(services, planner, services.create_case(planner, "t", "d",
                                                                 answers=HIGH))
    view = approve_recorded(services, reviewer, view)
    before = _last_seq(services)
    after = services.set_checklist_items(planner, view.id, {
        "PC-G1": ("not_met", ""), "PC-P1": ("not_met", "")}, view.version)
    assert after.status == "draft" and after.version == view.version + 1
    kinds = [e.event_type for e in _events_after(services, before)]
    assert kinds == ["case.checklist_set", "case.checklist_set", "approval.voided"]
    assert after.decisions[-1].kind == "void"


def test_display_names_are_those_of_the_actor_s_organisation(services, planner, org_actors):
    names = services.display_names(planner)
    assert names["a-planner"] == "a-planner" and "b-planner" not in names
    assert names == services.display_names(org_actors["a-auditor"])
