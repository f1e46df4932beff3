"""Fixtures of the CAIO tests: approved and running cases built through the real services."""

from __future__ import annotations

from datetime import date

import pytest

from procurement.demo import HIGH, LOW
from tests.fixtures.services import approve_recorded, submit_filled


def approve_case(svc, planner, reviewer, title="議事録要約", department="総務課", answers=LOW):
    """A case taken through submission and approval; returns its CaseView."""
    view = svc.create_case(planner, title, department, answers=dict(answers))
    view = submit_filled(svc, planner, view)
    return approve_recorded(svc, reviewer, view, "承認します")


@pytest.fixture
def approved_case(services, planner, reviewer):
    """An approved low-level case of org-a (the service clock is at 2026-07-01 UTC)."""
    return approve_case(services, planner, reviewer)


@pytest.fixture
def approved_high_case(services, planner, reviewer):
    return approve_case(services, planner, reviewer, "国民向けFAQ", "広報室", HIGH)


@pytest.fixture
def running_case(services, planner, approved_case):
    """The approved case put into operation on 2026-07-01 with a 6-month review interval."""
    op = services.start_operation(planner, approved_case.id, approved_case.version,
        started_on=date(2026, 7, 1), vendor="株式会社テスト", model_name="model-x",
        model_version="2026-06", ismap_listing="ismap:C25-0001", review_interval_months=6,
    )
    return op


# The app fixtures of the UI tests (a fresh SQLite file named by PROCUREMENT_DATABASE_URL, users
# of every role in org-a, AppTests started from app.py), shared rather than copied.
from tests.ui.conftest import make_app, ui_actors, ui_db_url, ui_services  # noqa: E402,F401
