"""Rule packs as data: the strict loader, layering, the condition vocabulary and the engine.

Public API (see docs/architecture.md, "Rule packs", and docs/rule-packs.md):
`PackRegistry`, `ResolvedPack`, `load_pack_dir`, `PackLoadError`, `LoadError`, `classify`,
`Classification`, `Reason`, `Finding`, `InvalidAnswersError`, `diff_packs`, `PackDiff`,
`run_pack_tests`, `CaseResult`, `CONDITIONS`.
"""

from procurement.packs.conditions import CONDITIONS
from procurement.packs.engine import (
    Classification,
    Finding,
    InvalidAnswersError,
    Reason,
    check_answers,
    classify,
)
from procurement.packs.diff import PackDiff, diff_packs
from procurement.packs.loader import LoadError, PackLoadError, load_pack_dir, parse_range
from procurement.packs.packtests import CaseResult, run_pack_tests
from procurement.packs.pack import ResolvedPack, canonical_json
from procurement.packs.registry import PackRegistry

__all__ = [
    "CONDITIONS",
    "CaseResult",
    "PackDiff",
    "diff_packs",
    "run_pack_tests",
    "Classification",
    "Finding",
    "InvalidAnswersError",
    "LoadError",
    "PackLoadError",
    "PackRegistry",
    "Reason",
    "ResolvedPack",
    "canonical_json",
    "check_answers",
    "classify",
    "load_pack_dir",
    "parse_range",
]
