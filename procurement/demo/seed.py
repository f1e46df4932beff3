"""Demo data: two organisations, users of every role and cases in every status and level,
created through the service layer (so every record is classified and audit-logged).

The services run on a stepping clock so the history is realistic: the ministry's first cases are
dated before 2026-06-12 and are assessed under edition 1 of jp-national (among them an approved
high pilot that edition 2 affects, so re-assessment has something to show), later ones under
edition 2; the city uses city-strict 1.0.0. After the history, both organisations adopt the new
versions (`ADOPTED_PACKS`: jp-national 2.1.0, city-strict 2.0.0) as their pack administrators would,
so new cases use them and `procurement reassess` shows what the new versions change for the
existing cases. Demo passwords are documented in docs/operations.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from procurement import fiscal
from procurement.db.models import Organisation
from procurement.records import readiness
from procurement.records.policy import SETTLED_CHECKLIST_STATUSES
from procurement.services import Actor, CaseView, Services

#: Every demo account has this password (documented in docs/operations.md; demo only).
DEMO_PASSWORD = "demo-pass"

#: (org code, name, kind, pack_ref): the ministry follows the national edition in force by date.
DEMO_ORGS = (
    ("demo-ministry", "デモ省", "ministry", None),
    # Pinned to city-strict 1.x: its scenarios answer LQ-1 but not the network question (MQ-1)
    # that city-strict 2.0.0 inherits from jp-municipal.
    ("demo-city", "デモ市", "municipality", "city-strict@1"),
)

#: What each organisation's pack administrator adopts once the demo history is written: the
#: improved national reconstruction and the city pack built on the municipal one. The cases
#: already written keep the version they were assessed under.
ADOPTED_PACKS = (
    ("demo-ministry", "ministry-packadmin", "jp-national@2.1.0"),
    ("demo-city", "city-packadmin", "city-strict@2.0.0"),
)

#: (username, display name, roles) per organisation.
DEMO_USERS = {
    "demo-ministry": (
        ("ministry-admin", "管理 太郎", ("admin",)),
        ("ministry-planner", "企画 花子", ("planner",)),
        ("ministry-planner2", "調達 次郎", ("planner",)),
        ("ministry-reviewer", "統括 一郎 (CAIO)", ("reviewer",)),
        ("ministry-auditor", "監査 桜", ("auditor",)),
        ("ministry-packadmin", "規則 健", ("pack_admin",)),
    ),
    "demo-city": (
        ("city-admin", "市 管理者", ("admin",)),
        ("city-planner", "市 企画担当", ("planner",)),
        ("city-reviewer", "市 CAIO", ("reviewer",)),
        ("city-auditor", "市 監査担当", ("auditor",)),
        ("city-packadmin", "市 規則担当", ("pack_admin",)),
    ),
}

_IN_SCOPE = {"SC-1": "yes", "SC-2": "no"}
LOW = {**_IN_SCOPE, "SC-3": "fy2026_or_later", "SC-4": "contracted_saas", "HR-1": "staff_limited",
       "HR-2": "internal_support", "HR-3": "public_only", "HR-4": "always_reviewed"}
REVIEW = {**LOW, "SC-4": "government_platform", "HR-1": "gov_external", "HR-3": "conf2_input"}
HIGH = {**LOW, "SC-4": "in_house", "HR-1": "public", "HR-2": "public_info",
        "HR-4": "partial_review"}
#: A citizen-facing service bought as SaaS: high for the public users, as the in-house HIGH.
HIGH_SAAS = {**HIGH, "SC-4": "contracted_saas"}
OUT_OF_SCOPE = {"SC-1": "no"}
BLOCKED = {**LOW, "SC-4": "terms_of_service", "HR-3": "conf2_input"}
INCOMPLETE = {**_IN_SCOPE, "SC-3": "fy2026_or_later", "HR-1": "staff_wide"}
EDITION_1_DATE = datetime(2026, 4, 8, 1, 0, tzinfo=UTC)
EDITION_2_DATE = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
CITY_DATE = datetime(2026, 8, 3, 1, 0, tzinfo=UTC)

BOARD_REPORT = {
    "project_details": "住民向け問い合わせ対応チャットボットの導入(生成AIによる回答案の自動生成)",
    "objectives": "問い合わせ対応時間の短縮と夜間・休日の案内の充実",
    "risk_mitigation": "回答は公開情報のみを根拠とし、誤回答時の訂正手順と免責表示を整備する",
    "qa_plan": "導入前に想定問答500件で正答率を評価し、運用中は月次で抽出検査する",
    "schedule": "2026年10月 試行、2027年4月 本格運用",
    "contact": "デジタル推進課 企画係(内線 1234)",
}

#: The board report of the edition-1 pilot (reported in April 2026, pilot from July).
PILOT_BOARD_REPORT = {
    "project_details": "事業者向け支援制度案内AIの試行(個別契約のSaaSで、公表資料を根拠に"
                       "支援制度の案内文を生成)",
    "objectives": "事業者が自社に合う支援制度を探す負担を軽くし、相談窓口への定型的な問い合わせを減らす",
    "risk_mitigation": "案内には根拠とした公表資料へのリンクを必ず示し、申請の可否は判断しない旨を"
                       "表示する。営業秘密や個人情報を入力しないよう画面で案内する",
    "qa_plan": "試行前に過去の問い合わせ300件で案内の正確性を評価し、試行中は回答の1割を職員が"
               "抜き取りで確認する",
    "schedule": "2026年7月 試行開始(3か月)、2026年10月 本格導入の判断",
    "contact": "中小企業支援課 企画係(内線 2345)",
}

#: Evidence of the items the demo marks `met`, per checklist.
EVIDENCE = "契約書案 第5条にて確認"
CHECKLIST_EVIDENCE = {
    "procurement": "調達仕様書 第3章にて確認",
    "contract": EVIDENCE,
    "usage_rules": "生成AI利用規程 第2条に規定",
}

#: Each demo case's purpose (利用目的), by title: what the system is used for, as a planner
#: writes it at intake (the periodic report to the Digital Agency shows it).
PURPOSES = {
    "議事録要約ツールの試行": "庁内会議の録音から議事録の要約案を作成し、職員が確認・修正したうえで"
                              "共有することで、議事録作成の時間を短縮する。",
    "法令検索アシスタント": "職員が法令・通知を調べる際に、関連する条文と解説資料の候補を提示し、"
                            "調査時間を短縮する。最終的な解釈は職員が原文で確認する。",
    "白書ドラフト作成支援": "公表済みの統計と過去の白書を基に章立てと本文の下書きを作成し、"
                            "執筆担当者の作業を支援する。",
    "事業者向け支援制度案内AIの試行": "事業者がホームページで業種・規模・目的を入力すると、"
                                      "利用できる可能性のある補助金・融資などの支援制度と公表資料の"
                                      "該当箇所を案内する。試行期間中は回答を職員が抜き取りで確認する。",
    "国民向けFAQチャットボット": "ホームページ上で制度や手続に関する国民からの問い合わせに、"
                                  "公開情報を根拠とした回答案を24時間自動で示す。",
    "翻訳支援サービスの利用": "海外機関とのやり取りに用いる文書(機密情報を含むものがある)の"
                              "翻訳案を外部の翻訳サービスで作成する。",
    "補助金審査の一次チェック": "補助金の申請書類について、記載漏れや要件との不一致の可能性を"
                                "洗い出し、審査担当者の一次確認を支援する。採否は職員が判断する。",
    "職員向け文書作成支援": "通知文、案内文、起案文書などの定型的な文書の下書きを作成し、"
                            "職員の文書作成を効率化する。",
    "コード生成支援ツール": "業務システムの改修で、プログラムの雛形やテストコードの案を作成し、"
                            "開発担当職員の作業を支援する。",
    "統計資料の要約": "公表予定の統計資料から要点をまとめた概要資料の案を作成し、"
                      "担当者が確認して公表資料に用いる。",
    "窓口案内AIチャット": "市民課の窓口や電話で多い手続の案内(必要書類、受付時間など)を、"
                          "市民がチャットで24時間確認できるようにする。",
    "広報誌の原稿作成支援": "市の広報誌の記事について、取材メモと公表資料から原稿の下書きを"
                            "作成し、広報担当の執筆時間を短縮する。",
    "会議録作成支援": "議会の会議の音声から会議録の素案を作成し、議会事務局職員が発言内容を"
                      "確認・校正して正式な会議録とする。",
    "外部翻訳サービス": "外国人住民向けのお知らせを多言語に翻訳する際に、外部の翻訳サービスで"
                        "訳文案を作成する。",
    "庁内FAQ検索": "職員向けの庁内規程やシステム操作のFAQを検索し、該当する回答を"
                   "すばやく見つけられるようにする。",
}

#: (owner, title, department, answers, final status, checklist {item: status}, board report):
#: the board report is False (none), True (`BOARD_REPORT`) or the report's fields.
#: A case that gets submitted has every other required item settled first (`complete_checklist`).
#: The edition-1 high pilot is what edition 2 changes (its new required item PC-T2): it shows
#: what `procurement reassess --pack jp-national@2.0.0` is for.
_MINISTRY_V1: tuple[tuple[Any, ...], ...] = (
    ("ministry-planner", "議事録要約ツールの試行", "大臣官房 総務課", LOW, "approved",
     {"PC-G1": "met", "PC-D1": "met"}, False),
    ("ministry-planner", "法令検索アシスタント", "法務室", REVIEW, "submitted", {}, False),
    ("ministry-planner2", "白書ドラフト作成支援", "政策企画課", OUT_OF_SCOPE, "approved", {}, False),
    ("ministry-planner2", "事業者向け支援制度案内AIの試行", "中小企業支援課", HIGH_SAAS, "approved",
     {"PC-P2": "met", "PC-Q3": "met", "CC-4": "met"}, PILOT_BOARD_REPORT),
)
_MINISTRY_V2: tuple[tuple[Any, ...], ...] = (
    ("ministry-planner", "国民向けFAQチャットボット", "広報室", HIGH, "approved",
     {"PC-P2": "met", "PC-Q3": "met", "CC-4": "met", "CC-10": "met", "CC-13": "met"}, True),
    ("ministry-planner", "翻訳支援サービスの利用", "国際課", BLOCKED, "draft", {}, False),
    ("ministry-planner2", "補助金審査の一次チェック", "補助金審査室", HIGH, "returned",
     {"PC-Q3": "pending"}, True),
    ("ministry-planner2", "職員向け文書作成支援", "人事課", INCOMPLETE, "draft", {}, False),
    ("ministry-planner", "コード生成支援ツール", "情報システム室", LOW, "withdrawn", {}, False),
    ("ministry-planner2", "統計資料の要約", "統計課", REVIEW, "voided", {"PC-G1": "met"}, False),
)
_CITY: tuple[tuple[Any, ...], ...] = (
    ("city-planner", "窓口案内AIチャット", "市民課", {**HIGH, "LQ-1": "no"}, "submitted", {"LG-1": "met"}, True),
    ("city-planner", "広報誌の原稿作成支援", "広報課", {**LOW, "LQ-1": "yes"}, "approved",
     {"LG-1": "met", "LG-2": "met", "UR-5": "met"}, False),
    ("city-planner", "会議録作成支援", "議会事務局", {**REVIEW, "LQ-1": "no"}, "draft", {}, False),
    ("city-planner", "外部翻訳サービス", "国際交流課", {**LOW, "HR-3": "conf2_input", "LQ-1": "no"},
     "draft", {}, False),
    ("city-planner", "庁内FAQ検索", "情報政策課", OUT_OF_SCOPE, "withdrawn", {}, False),
)


class SteppingClock:
    """A clock that starts at a given time and moves a few minutes on every reading."""

    def __init__(self, start: datetime, step: timedelta = timedelta(minutes=7)):
        self.now = start
        self.step = step

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now


@dataclass
class SeedSummary:
    """What `seed_demo` created, per organisation."""

    users_by_org: dict[str, int] = field(default_factory=dict)
    cases_by_org: dict[str, int] = field(default_factory=dict)
    case_ids: list[int] = field(default_factory=list)


def seed_demo(svc: Services) -> SeedSummary | None:
    """Create the demo organisations, users and cases; None if they are already there."""
    with svc.read() as s:
        if s.scalar(select(Organisation.id).where(Organisation.code == DEMO_ORGS[0][0])):
            return None
    clock = SteppingClock(EDITION_1_DATE - timedelta(days=7))
    demo = Services(svc.engine, svc.registry, clock=clock)
    summary = SeedSummary()
    for code, name, kind, pack_ref in DEMO_ORGS:
        operator = Actor(None, "system", "system", 0, code, frozenset({"admin"}))
        demo.create_org(operator, code, name, kind, pack_ref)
        admin = demo.system_actor(code)
        for username, display_name, roles in DEMO_USERS[code]:
            demo.create_user(admin, code, username, display_name, DEMO_PASSWORD, roles)
        summary.users_by_org[code] = len(DEMO_USERS[code])
        summary.cases_by_org[code] = 0
    for start, org, cases in (
        (EDITION_1_DATE, "demo-ministry", _MINISTRY_V1),
        (EDITION_2_DATE, "demo-ministry", _MINISTRY_V2),
        (CITY_DATE, "demo-city", _CITY),
    ):
        clock.now = max(clock.now, start)
        reviewer = demo.actor_for(f"{org.split('-')[1]}-reviewer")
        for owner, title, department, answers, status, checklist, report in cases:
            case_id = _seed_case(demo, demo.actor_for(owner), reviewer, title, department, answers,
                                 status, checklist, report)
            summary.case_ids.append(case_id)
            summary.cases_by_org[org] += 1
            clock.now += timedelta(days=2)
    for org, pack_admin, pack_ref in ADOPTED_PACKS:
        demo.set_org_pack(demo.actor_for(pack_admin), org, pack_ref)
    return summary


def _seed_case(
    svc: Services, owner: Actor, reviewer: Actor, title: str, department: str,
    answers: Mapping[str, Any], status: str, checklist: Mapping[str, str],
    report: bool | Mapping[str, str],
) -> int:
    view = svc.create_case(owner, title, department, answers=dict(answers),
                           purpose=PURPOSES[title])
    # An item left open on a returned case was reopened after the return (the reviewer asked for
    # its evidence): the case itself was complete when it was submitted.
    reopened = {i: st for i, st in checklist.items()
                if status == "returned" and st not in SETTLED_CHECKLIST_STATUSES}
    for item_id, item_status in checklist.items():
        if item_id not in reopened:
            view = svc.set_checklist_item(owner, view.id, item_id, item_status,
                                          EVIDENCE if item_status == "met" else "", view.version)
    if report:
        fields = BOARD_REPORT if report is True else report
        view = svc.save_board_report(owner, view.id, dict(fields), view.version)
    if status in ("draft",):
        return view.id
    if status == "withdrawn":
        svc.withdraw(owner, view.id, view.version, "事業計画の見直しにより取下げ")
        return view.id
    view = complete_checklist(svc, owner, view)
    view = svc.submit(owner, view.id, view.version)
    if status == "submitted":
        return view.id
    if status == "returned":
        view = svc.return_case(reviewer, view.id, "品質評価計画(PC-Q3)の根拠資料を添付してください",
                               view.version)
        for item_id, item_status in reopened.items():
            view = svc.set_checklist_item(owner, view.id, item_id, item_status,
                                          "根拠資料を準備中", view.version)
        return view.id
    record_consultations(svc, reviewer, view.id)
    view = svc.approve(reviewer, view.id, view.version, "承認します")
    if status == "voided":
        # A change after approval voids it: the case is back to draft, with the void on record.
        svc.set_checklist_item(owner, view.id, "PC-G1", "not_met", "体制図の更新待ち", view.version)
    return view.id


def record_consultations(svc: Services, reviewer: Actor, case_id: int) -> int:
    """Record, as the reviewer, every report or consultation step the case's pack asks for
    before approval (reported today, advice received), as a reviewer does before approving.
    Returns how many were recorded."""
    recorded = 0
    for step in svc.consultation_steps(reviewer, case_id):
        if step.recorded is not None:
            continue
        body = (step.body or step.title).get("ja", "")
        svc.record_consultation(reviewer, case_id, step.step_id,
                                reported_on=fiscal.to_jst(svc.now()).date(), advice="received",
                                note=f"{body}に報告し、助言を受けた。")
        recorded += 1
    return recorded


def complete_checklist(svc: Services, owner: Actor, view: CaseView) -> CaseView:
    """Settle every required checklist item still open (`met`, with evidence naming where it is
    shown), so the case may be submitted (`procurement.records.readiness`)."""
    pack = svc.registry.resolve(view.pack_ref)
    for gap in readiness.item_gaps(pack, view):
        evidence = CHECKLIST_EVIDENCE.get(pack.item(gap.id).checklist, EVIDENCE)
        view = svc.set_checklist_item(owner, view.id, gap.id, "met", evidence, view.version)
    return view
