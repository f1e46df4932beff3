"""An organisation on a pack with levels of its own (`example-impact`, levels I-IV): every page
and every export or report shows the pack's own level words, in the pack's order, and never the
national levels' words (out of scope / low / review / high). Cases are created through the
services and shown through the real app (AppTest) and the real writers.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from procurement.caio.operation import ISMAP_LISTINGS
from procurement.caio.portfolio import compute_portfolio
from procurement.exports.case import build_case_workbook
from procurement.exports.csvfiles import write_answers_csv, write_audit_csv
from procurement.exports.organisation import ExportFilters, build_organisation_workbook
from procurement.fiscal import fiscal_year, to_jst
from procurement.vocabulary import word
from tests.fixtures.services import TEST_PASSWORD, submit_filled
from tests.ui.helpers import assert_clean, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ORG = "org-iv"
PACK = "example-impact@1"
#: answers giving each level (from the pack's own boundary tests)
ANSWERS = {
    "I": {"PH-1": "production", "IM-1": "partners", "IM-2": [], "IM-3": "human_decides",
          "IM-4": "他の機関への回答案を作る。"},
    "II": {"PH-1": "production", "IM-1": "staff", "IM-2": ["special_care"],
           "IM-3": "human_decides", "IM-4": "職員の相談記録を要約する。", "MT-1": []},
    "III": {"PH-1": "production", "IM-1": "public", "IM-2": ["personal"], "IM-3": "human_decides",
            "IM-4": "住民への回答案を作る。", "MT-1": ["opt_out"]},
    "IV": {"PH-1": "production", "IM-1": "public", "IM-2": ["special_care"], "IM-3": "sampled",
           "IM-4": "住民の相談に答える。", "MT-1": ["human_review", "logging"]},
}
USERS = {"planner": "iv-planner", "reviewer": "iv-reviewer", "auditor": "iv-auditor",
         "admin": "iv-admin"}
#: Pages that list every installed pack (and so, rightly, the national packs' levels too).
ALL_PACKS_PAGES = {"packs"}


def without_non_level_words(text: str) -> str:
    """`text` without the ISMAP listing words: "対象外（自組織構築等）" (not applicable, built
    in-house) shares its first word with the national "対象外" level but is no level."""
    for code in ISMAP_LISTINGS:
        for lang in ("ja", "en"):
            text = text.replace(word("ismap", code, lang), "")
    return text


def national_words(registry) -> set[str]:
    """The words of every level of the packs on the national scale (all editions, municipal and
    city packs), in every language."""
    words = set()
    for pack in registry.packs():
        if pack.id == "example-impact":
            continue
        for level in pack.levels:
            words.update(level.label.values())
    return words


@pytest.fixture
def impact_org(ui_services, ui_actors):
    """`org-iv` on example-impact with one user per role and a case at each level: I approved
    and in operation, II and IV submitted, III a draft."""
    svc = ui_services
    admin = ui_actors["a-admin"]
    svc.create_org(admin, ORG, "区分市", "municipality", pack_ref=PACK)
    for role, username in USERS.items():
        svc.create_user(admin, ORG, username, f"区分 {role}", TEST_PASSWORD, [role])
    actors = {role: svc.authenticate(username, TEST_PASSWORD) for role, username in USERS.items()}
    planner, reviewer = actors["planner"], actors["reviewer"]
    cases = {}
    for level, answers in ANSWERS.items():
        view = svc.create_case(planner, f"区分{level}の案件", "企画課", answers=dict(answers))
        assert view.level == level, (level, view.level)
        cases[level] = view
    cases["I"] = submit_filled(svc, planner, cases["I"])
    cases["I"] = svc.approve(reviewer, cases["I"].id, cases["I"].version)
    today = to_jst(svc.clock()).date()
    svc.start_operation(planner, cases["I"].id, cases["I"].version, started_on=today,
                        vendor="株式会社サンプル", model_name="m", model_version="1",
                        ismap_listing="ismap", review_interval_months=1)
    for level in ("II", "IV"):
        cases[level] = submit_filled(svc, planner, cases[level])
    return actors, cases


def page_texts(at) -> str:
    """Everything a page shows: texts, widget labels and options, metrics and table cells."""
    parts = [texts(at)]
    for kind in ("radio", "selectbox", "multiselect", "text_input", "text_area", "button",
                 "toggle", "checkbox"):
        for widget in getattr(at, kind):
            parts.append(str(widget.label))
            parts += [str(o) for o in getattr(widget, "options", [])]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for frame in at.dataframe:
        value = frame.value
        parts += [str(c) for c in value.columns]
        parts += [str(v) for v in value.to_numpy().ravel()]
    return "\n".join(parts).replace("\u2060", "")


def test_every_page_shows_the_packs_levels_never_the_national_ones(
        impact_org, ui_services, make_app):
    from procurement.ui import navigation

    actors, cases = impact_org
    pack = ui_services.registry.resolve(PACK)
    national = national_words(ui_services.registry)
    seen_levels: set[str] = set()
    for role, actor in actors.items():
        for lang in ("ja", "en"):
            labels = {lv.id: pack.text(lv.label, lang) for lv in pack.levels}
            at = make_app(actor, lang=lang)
            assert_clean(at)
            for spec in navigation.pages_for(frozenset(actor.roles)):
                case_ids = [c.id for c in cases.values()] if spec.url_path == "workspace" else [None]
                for case_id in case_ids:
                    if case_id is not None:
                        at.session_state["case_id"] = case_id
                    at.switch_page(spec.path).run()
                    assert_clean(at)
                    shown = without_non_level_words(page_texts(at))
                    if spec.url_path not in ALL_PACKS_PAGES:
                        wrong = sorted(w for w in national if w in shown)
                        assert not wrong, f"{spec.url_path} ({role}, {lang}) shows {wrong}"
                    seen_levels.update(lv for lv, label in labels.items() if label in shown)
    assert seen_levels == {"I", "II", "III", "IV"}


def test_portfolio_page_and_figures_follow_the_packs_order(impact_org, ui_services, make_app):
    actors, cases = impact_org
    svc = ui_services
    pack = svc.registry.resolve(PACK)
    rows = svc.load_portfolio_rows(actors["reviewer"])
    p = compute_portfolio(rows, now=svc.clock())
    assert [g.level for g in p.levels] == ["I", "II", "III", "IV"]
    assert [g.text("en") for g in p.levels] == [pack.text(lv.label, "en") for lv in pack.levels]
    assert [g.tone for g in p.levels] == [lv.tone for lv in pack.levels]
    # High risk is the pack's flag (IV), whatever the level is called.
    assert [c.id for c in p.high_risk] == [cases["IV"].id]
    at = make_app(actors["reviewer"]).switch_page("procurement/ui/pages/portfolio.py").run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["案件数"] == "4" and metrics["高リスクの可能性"] == "1"
    (waiting,) = [d.value for d in at.dataframe if "提出日時" in d.value.columns]
    assert sorted(waiting[word("concept", "level", "ja")]) == sorted(
        pack.text(pack.level(lv).label, "ja") for lv in ("II", "IV"))


def workbook_strings(data: bytes | str) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row
            if cell.value is not None]


def test_every_export_and_report_uses_the_packs_levels(impact_org, ui_services, tmp_path):
    actors, cases = impact_org
    svc = ui_services
    reviewer = actors["reviewer"]
    pack = svc.registry.resolve(PACK)
    national = national_words(svc.registry)
    outputs: dict[str, str] = {}

    org_book = tmp_path / "org.xlsx"
    build_organisation_workbook(svc.engine, org_book, filters=ExportFilters(org_codes=(ORG,)),
                                registry=svc.registry, generated_by="test")
    outputs["organisation workbook"] = "\n".join(workbook_strings(str(org_book)))
    for level, case in cases.items():
        path = tmp_path / f"case-{level}.xlsx"
        build_case_workbook(svc.engine, case.id, path, registry=svc.registry,
                            org_codes=(ORG,), generated_by="test")
        outputs[f"case workbook {level}"] = "\n".join(workbook_strings(str(path)))
    answers_csv, audit_csv = tmp_path / "answers.csv", tmp_path / "audit.csv"
    write_answers_csv(svc.engine, answers_csv, filters=ExportFilters(org_codes=(ORG,)),
                      registry=svc.registry)
    write_audit_csv(svc.engine, audit_csv, filters=ExportFilters(org_codes=(ORG,)))
    for name, path in (("answers csv", answers_csv), ("audit csv", audit_csv)):
        with open(path, encoding="utf-8-sig", newline="") as f:
            outputs[name] = "\n".join("\t".join(row) for row in csv.reader(f))
    periodic = {}
    for lang in ("ja", "en"):
        buffer = io.BytesIO()
        svc.write_periodic_report_for(reviewer, fiscal_year(to_jst(svc.clock()).date()), buffer,
                                      lang=lang)
        periodic[lang] = workbook_strings(buffer.getvalue())
        outputs[f"periodic report {lang}"] = "\n".join(periodic[lang])
        for level, case in cases.items():
            for fmt in ("xlsx", "html"):
                path = tmp_path / f"board-{level}-{lang}.{fmt}"
                svc.write_board_report(reviewer, case.id, path, lang=lang)
                outputs[f"board report {level} {lang} {fmt}"] = (
                    "\n".join(workbook_strings(str(path))) if fmt == "xlsx"
                    else path.read_text(encoding="utf-8"))

    for name, text in outputs.items():
        wrong = sorted(w for w in national if w in without_non_level_words(text))
        assert not wrong, f"{name} shows {wrong}"
    labels = {lang: [pack.text(lv.label, lang) for lv in pack.levels] for lang in ("ja", "en")}
    assert all(label in outputs["organisation workbook"] for label in labels["ja"])
    # The organisation workbook's summary counts cases by level in the pack's order.
    summary = [str(c.value) for row in openpyxl.load_workbook(org_book)["概要"].iter_rows()
               for c in row if c.value is not None]
    assert [v for v in summary if v in labels["ja"]] == labels["ja"]
    for level, case in cases.items():
        assert pack.text(pack.level(level).label, "ja") in outputs[f"board report {level} ja html"]
    # The periodic report's figures by level, in the pack's order (every case is in scope).
    for lang, heading in (("ja", "リスク区分別"), ("en", "By level")):
        (by_level,) = [periodic[lang][i + 1] for i, v in enumerate(periodic[lang])
                       if v == heading]
        shown = [line.rsplit(":", 1)[0] for line in by_level.splitlines()]
        assert shown == [label for label in labels[lang]
                         if any(label in line for line in by_level.splitlines())]
        assert shown[-1] == labels[lang][-1]


def test_a_pack_without_a_submission_step_is_submitted_at_its_planners_last_step(
        impact_org, ui_services, make_app):
    """example-impact names no `submission` step: the planner submits at the last step of
    hers (its control checks), never stranded without a submit button."""
    from procurement.records.readiness import submission_step
    from tests.fixtures.services import fill_for_submission
    from tests.ui.helpers import go, open_step

    actors, cases = impact_org
    svc = ui_services
    pack = svc.registry.resolve(PACK)
    assert submission_step(pack) == "control_checks"
    assert submission_step(svc.registry.resolve("jp-national@2.1.0")) == "submission"
    planner = actors["planner"]
    draft = fill_for_submission(svc, planner, cases["III"])
    at = make_app(planner)
    at.session_state["case_id"] = draft.id
    at = go(at, "workspace")
    assert_clean(at)
    at = open_step(at, "control_checks")
    at.button(key="submit_case").click().run()
    assert_clean(at)
    assert svc.get_case(planner, draft.id).status == "submitted"
