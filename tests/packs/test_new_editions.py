"""What jp-national 2.1.0, jp-municipal 1.0.0 and city-strict 2.0.0 promise beyond their pack
tests: 2.1.0 keeps every id and option value of 2.0.0 (stored answers stay valid), and the
municipal packs carry no national reporting route."""

from __future__ import annotations

import re

import pytest

from procurement.glossary import japanese_texts
from procurement.packs import ResolvedPack
from procurement.packs.yamlreader import read_yaml

NATIONAL_ROUTE = re.compile(r"デジタル庁(に|へ)報告|デジタル庁へ|アドバイザリーボード(に|へ)報告")


def test_2_1_keeps_every_id_and_option_value_of_2_0(national_v2, national_v21):
    for q in national_v2.questions:
        assert set(q.option_values) <= set(national_v21.question(q.id).option_values), q.id
    for kind in ("levels", "rules", "blocking", "steps"):
        old = {el.id for el in getattr(national_v2, kind)}
        assert old <= {el.id for el in getattr(national_v21, kind)}, kind
    assert {i.id for i in national_v2.items} <= {i.id for i in national_v21.items}
    assert [lv.id for lv in national_v21.levels] == [lv.id for lv in national_v2.levels]


def test_2_1_is_a_minor_version_of_the_same_edition(national_v2, national_v21):
    assert national_v21.version_tuple[:1] == national_v2.version_tuple[:1]
    assert national_v21.version_tuple > national_v2.version_tuple
    assert national_v21.edition == national_v2.edition


@pytest.mark.parametrize("key", ["jp-municipal@1.0.0", "city-strict@2.0.0"])
def test_a_municipal_pack_has_no_national_reporting_route(registry, key):
    pack: ResolvedPack = registry.resolve(key)
    ids = {s.id for s in pack.steps}
    assert "board_report" not in ids and "municipal_report" in ids
    assert pack.step("municipal_report").kind == "report"
    assert "本団体" in pack.step("municipal_report").body["ja"]
    assert "CC-13" not in {i.id for i in pack.items}
    data = pack.content_dict()
    for el in data["levels"] + data["questions"] + data["steps"] + [i for c in data["checklists"] for i in c["items"]]:
        plain = {k: v for k, v in el.items() if k != "override"}  # override reasons explain the change
        for where, text in japanese_texts(plain):
            assert not NATIONAL_ROUTE.search(text), (el["id"], where, text)


def test_the_national_route_is_still_there_for_ministries(national_v21):
    assert national_v21.step("board_report").kind == "report"
    assert NATIONAL_ROUTE.search(national_v21.item("OP-4").text["ja"])


def test_the_municipal_removals_each_give_a_reason(jp_municipal):
    raw, _ = read_yaml((jp_municipal.path / "pack.yaml").read_bytes())
    removed = {r["id"]: r["reason"] for r in raw["removes"]}
    assert set(removed) == {"board_report", "CC-13", "FL-BEST-EFFORT"}
    assert all(jp_municipal.element(i) is None for i in removed)
    assert all(reason["ja"].strip() and reason["en"].strip() for reason in removed.values())
