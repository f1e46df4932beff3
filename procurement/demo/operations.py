"""Demo operation records and incidents, so the CAIO's pages have something to show.

Runs after `procurement.demo.seed_demo` (which creates the cases) and goes through the same
services as a user would: two approved cases of the demo ministry go into operation, one has had
its periodic review, and the FAQ chatbot has a closed and an open incident. Back-dated with a
fixed clock after the ministry's last demo event, so the audit chain stays in time order.
Idempotent: a case already in operation is left alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from procurement.services import Services

ORG = "demo-ministry"
MINUTES_TITLE = "議事録要約ツールの試行"
FAQ_TITLE = "国民向けFAQチャットボット"


class _SetClock:
    """A clock the seeding sets before each step (each reading moves one second on)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 8, 20, 1, 0, tzinfo=UTC)

    def at(self, year: int, month: int, day: int, hour: int, minute: int) -> None:
        self.now = datetime(year, month, day, hour, minute, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def seed_demo_operations(svc: Services) -> int:
    """Put the demo ministry's minutes tool and FAQ chatbot into operation with a review and two
    incidents. Returns how many cases were put into operation (0 when already done)."""
    clock = _SetClock()
    demo = Services(svc.engine, svc.registry, clock=clock)
    planner = demo.actor_for("ministry-planner")
    reviewer = demo.actor_for("ministry-reviewer")
    cases = {c.title: c for c in demo.list_cases(reviewer)}
    started = 0

    minutes = cases.get(MINUTES_TITLE)
    if minutes is not None and minutes.status == "approved":
        clock.at(2026, 8, 20, 1, 0)
        op = demo.start_operation(planner, minutes.id, minutes.version, started_on=date(2026, 5, 1),
            vendor="デモ・ソリューションズ株式会社", model_name="demo-summarizer",
            model_version="2026-04", ismap_listing="ismap:C23-0001", review_interval_months=3)
        clock.at(2026, 8, 20, 2, 0)
        demo.record_review(reviewer, minutes.id, op.case_version,
                                reviewed_on=date(2026, 8, 20),
                                note="要約の抜き取り検査（20件）で誤りなし")
        started += 1

    faq = cases.get(FAQ_TITLE)
    if faq is not None and faq.status == "approved":
        clock.at(2026, 8, 21, 1, 0)
        demo.start_operation(planner, faq.id, faq.version, started_on=date(2026, 8, 21),
            vendor="自組織（広報室・情報システム室）", model_name="demo-chat", model_version="1.2",
            ismap_listing="not_applicable", review_interval_months=6)
        clock.at(2026, 8, 25, 6, 0)
        first = demo.create_incident(planner, faq.id, occurred_on=date(2026, 8, 25), severity="high",
            description="廃止済みの手続を現行の手続として案内する回答が確認された",
            reported_to_caio_at=datetime(2026, 8, 25, 5, 30, tzinfo=UTC))
        clock.at(2026, 8, 28, 1, 0)
        demo.close_incident(reviewer, first.id, first.version,
            actions_taken="参照データを更新し、廃止手続に関する問合せは職員へ引き継ぐ設定とした",
            comment="再発防止策を確認")
        clock.at(2026, 9, 10, 3, 0)
        demo.create_incident(planner, faq.id, occurred_on=date(2026, 9, 10), severity="medium",
            description="回答に個人名（職員名）が含まれる事例が1件あった",
            actions_taken="出力フィルタの設定を確認中",
            reported_to_caio_at=datetime(2026, 9, 10, 2, 0, tzinfo=UTC))
        started += 1
    return started
