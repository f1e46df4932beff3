"""The one compatibility table for packs written before levels and steps described themselves.

The published national packs (jp-national 1.0.0 and 2.0.0) and city-strict 1.0.0 do not declare
a level's `tone`, `high_risk` or `out_of_scope`, nor a step's `kind` and `body`; their files and
fingerprints must never change. The loader fills such absent keys from this table, by element id,
when it resolves a pack; the values never enter the fingerprinted content (`content_dict()`), and
`ResolvedPack.to_dict()` lists them under `legacy_defaults` so that nothing is hidden.

A key a pack declares always wins. A level or step id not in the table gets the neutral defaults
below. New packs should declare every key and not rely on this table (see docs/rule-packs.md,
"Legacy defaults").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

#: Level id -> the keys a legacy level of that id has.
LEGACY_LEVELS: MappingProxyType[str, MappingProxyType[str, Any]] = MappingProxyType({
    "out_of_scope": MappingProxyType({"out_of_scope": True, "tone": "neutral"}),
    "low": MappingProxyType({"tone": "success"}),
    "review": MappingProxyType({"tone": "warning"}),
    "high": MappingProxyType({"high_risk": True, "tone": "danger"}),
})

#: Defaults of a level key that is neither declared nor in `LEGACY_LEVELS`.
LEVEL_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {"tone": "neutral", "high_risk": False, "out_of_scope": False}
)

#: The body the national guideline reports high-risk projects to.
ADVISORY_BOARD: MappingProxyType[str, str] = MappingProxyType({
    "ja": "先進的AI利活用アドバイザリーボード",
    "en": "Advanced AI Utilization Advisory Board",
})

#: Step id -> the keys a legacy step of that id has when it declares no `kind`.
LEGACY_STEPS: MappingProxyType[str, MappingProxyType[str, Any]] = MappingProxyType({
    "board_report": MappingProxyType({"kind": "report", "body": ADVISORY_BOARD}),
})


def level_value(level_id: str, key: str, declared: Any) -> tuple[Any, bool]:
    """The effective value of a level key and whether it came from the legacy table."""
    if declared is not None:
        return declared, False
    legacy: Mapping[str, Any] = LEGACY_LEVELS.get(level_id, {})
    if key in legacy:
        return legacy[key], True
    return LEVEL_DEFAULTS[key], False


def step_defaults(step_id: str, kind: str | None) -> dict[str, Any]:
    """The legacy `kind` and `body` of a step that declares no kind (empty when none applies)."""
    if kind is not None:
        return {}
    return {k: (dict(v) if isinstance(v, MappingProxyType) else v)
            for k, v in LEGACY_STEPS.get(step_id, {}).items()}
