"""Real concurrency: a write racing another on the same case, and several processes migrating a
fresh database at once."""

import multiprocessing

import pytest

from procurement.demo import LOW
from procurement.errors import ConflictError


@pytest.fixture
def pg_services(pg_url, records_registry, fast_password_hashing):
    from procurement.db import create_db_engine
    from procurement.services import Services

    engine = create_db_engine(pg_url)
    try:
        yield Services(engine, records_registry)
    finally:
        engine.dispose()


def test_a_write_that_lost_a_race_is_a_conflict_and_rolls_back(pg_services):
    # Both writers read version 1; the second commits first. PostgreSQL's READ COMMITTED would let
    # a plain UPDATE through: the version check in the UPDATE itself must stop it. (On SQLite the
    # first writer's BEGIN IMMEDIATE makes the race impossible, so this runs on PostgreSQL.)
    svc = pg_services
    admin = svc.create_first_admin("org-a", "A", "ministry", "root", "R", "correct horse battery")
    svc.create_user(admin, "org-a", "p1", "P1", "correct horse battery", ["planner"])
    p1 = svc.actor_for("p1")
    case = svc.create_case(p1, "t", "d", answers=LOW)
    with pytest.raises(ConflictError):
        with svc.unit_of_work(p1, "case.edit") as uow:
            stale = uow.load_case(case.id, expected_version=1)
            svc.save_answers(p1, case.id, {"HR-1": "public"}, 1)  # another writer wins
            stale.title = "lost update"
            uow.touch(stale)
            uow.audit("case.renamed", stale.id, {"title": "lost update"})
    after = svc.get_case(p1, case.id)
    assert (after.title, after.level, after.version) == ("t", "high", 2)
    assert [e.event_type for e in svc.case_history(p1, case.id)] == [
        "case.created", "case.answers_saved", "case.classified"]


def _migrate(url: str) -> str:
    from procurement.db import create_db_engine
    from procurement.db.migrations import current_revision

    engine = create_db_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def test_several_processes_can_bring_a_fresh_database_up_at_once(db_url):
    from procurement.db.migrations import head_revision

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(3) as pool:
        revisions = pool.map(_migrate, [db_url] * 3)
    assert revisions == [head_revision()] * 3
