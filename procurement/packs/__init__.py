"""Rule packs as data: the strict loader, layering, the condition vocabulary and the engine.

Public API (see docs/architecture.md, "Rule packs", and docs/rule-packs.md):
`PackRegistry`, `ResolvedPack`, `load_pack_dir`, `PackLoadError`, `LoadError`, `ParentLock`,
`classify`, `Classification`, `Reason`, `Finding`, `PointsTotal`, `InvalidAnswersError`,
`check_answers`, `check_consistency`, `check_item_statuses`, `option_effects`, `pick_text`,
`diff_packs`, `PackDiff`, `run_pack_tests`, `CaseResult`, `CONDITIONS`, `ITEM_STATUSES`,
`STEP_KINDS`.
"""

from procurement.packs.conditions import CONDITIONS, ITEM_STATUSES
from procurement.packs.diff import PackDiff, diff_packs
from procurement.packs.effects import option_effects
from procurement.packs.engine import (
    Classification,
    Finding,
    InvalidAnswersError,
    PointsTotal,
    Reason,
    check_answers,
    check_consistency,
    check_item_statuses,
    classify,
)
from procurement.packs.loader import (
    LoadError,
    PackLoadError,
    load_pack_dir,
    parse_range,
)
from procurement.packs.lock import LOCK_FILE, ParentLock, parse_lock_ref
from procurement.packs.pack import STEP_KINDS, ResolvedPack, canonical_json
from procurement.packs.packtests import CaseResult, run_pack_tests
from procurement.packs.registry import PackRegistry
from procurement.packs.texts import pick_text

__all__ = [
    "CONDITIONS",
    "ITEM_STATUSES",
    "LOCK_FILE",
    "STEP_KINDS",
    "CaseResult",
    "Classification",
    "Finding",
    "InvalidAnswersError",
    "LoadError",
    "PackDiff",
    "PackLoadError",
    "PackRegistry",
    "ParentLock",
    "PointsTotal",
    "Reason",
    "ResolvedPack",
    "canonical_json",
    "check_answers",
    "check_consistency",
    "check_item_statuses",
    "classify",
    "diff_packs",
    "load_pack_dir",
    "option_effects",
    "parse_lock_ref",
    "parse_range",
    "pick_text",
    "run_pack_tests",
]
