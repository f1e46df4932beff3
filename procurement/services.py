"""The services facade: one object holding every use-case of the app, for the app, the CLI and
scripts (the stable Python API documented in docs/architecture.md).

    from procurement.runtime import open_services
    svc = open_services()                      # Services on the configured database
    actor = svc.actor_for("ministry-planner")
    case = svc.create_case(actor, "議事録要約", "総務課", answers={...})
    svc.save_answers(actor, case.id, {"HR-1": "public"}, case.version)

Each domain module contributes the methods of its use-cases (a mixin on the shared core,
`procurement.records.core.ServiceCore`): every method takes the acting user first, checks role
and organisation (`procurement.records.policy`), writes the change with its audit event in one
unit of work, and returns frozen views, never live ORM objects.
"""

from __future__ import annotations

from procurement.caio.board import BoardReportService
from procurement.caio.incidents import IncidentService
from procurement.caio.operation import OperationService
from procurement.caio.periodic import PeriodicReportService
from procurement.caio.portfolio import PortfolioService
from procurement.caio.registers import RegisterService
from procurement.db.models import BOARD_REPORT_FIELDS
from procurement.notify.service import NotificationService
from procurement.records.accounts import LOCK_DURATION, MAX_FAILED_LOGINS, AccountService
from procurement.records.cases import CASE_DETAIL_FIELDS, PURPOSE_MAX_LENGTH
from procurement.records.consultations import ConsultationService
from procurement.records.core import ServiceCore, UnitOfWork, utc_now
from procurement.records.desk import ReviewDeskService
from procurement.records.importing import ImportService
from procurement.records.organisations import OrganisationService, national_edition_on
from procurement.records.sessions import SessionService
from procurement.records.sso import SingleSignOnService
from procurement.records.views import (
    Actor,
    CaseSummary,
    CaseView,
    ChecklistEntry,
    DecisionView,
    EventView,
    OrgView,
    UserView,
    answers_hash,
)
from procurement.records.workflow import WorkflowService
from procurement.sharing.installed import PackSharingService
from procurement.sharing.reassess import ReassessService


class Services(
    AccountService,
    SessionService,
    SingleSignOnService,
    OrganisationService,
    ImportService,
    WorkflowService,
    ConsultationService,
    ReviewDeskService,
    NotificationService,
    OperationService,
    IncidentService,
    RegisterService,
    PortfolioService,
    PeriodicReportService,
    BoardReportService,
    PackSharingService,
    ReassessService,
):
    """Every use-case of the app; see the module docstring and docs/architecture.md."""


__all__ = [
    "BOARD_REPORT_FIELDS",
    "CASE_DETAIL_FIELDS",
    "LOCK_DURATION",
    "MAX_FAILED_LOGINS",
    "PURPOSE_MAX_LENGTH",
    "Actor",
    "CaseSummary",
    "CaseView",
    "ChecklistEntry",
    "DecisionView",
    "EventView",
    "OrgView",
    "ServiceCore",
    "Services",
    "UnitOfWork",
    "UserView",
    "answers_hash",
    "national_edition_on",
    "utc_now",
]
