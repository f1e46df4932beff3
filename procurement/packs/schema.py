"""The JSON Schema of the pack format, generated from the model and the condition registry.

`rules/pack.schema.json` is this output, committed; a test fails when it is stale. Regenerate
with `python -m procurement.packs.schema > rules/pack.schema.json`.
"""

from __future__ import annotations

import json
from typing import Any

from procurement.packs.conditions import condition_json_schema
from procurement.packs.model import PackFile

SCHEMA_ID = "https://github.com/procurement/procurement/rules/pack.schema.json"


def pack_json_schema() -> dict[str, Any]:
    """The schema of `pack.yaml`, as a dict."""
    schema = _link_conditions(PackFile.model_json_schema(mode="validation"))
    schema["$defs"]["Condition"] = condition_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def _link_conditions(node: Any) -> Any:
    # The model marks condition fields with {"x-condition": true}; point them at the shared
    # definition generated from the condition registry.
    if isinstance(node, dict):
        if node.get("x-condition") is True:
            return {"$ref": "#/$defs/Condition"}
        return {k: _link_conditions(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_link_conditions(v) for v in node]
    return node


def render_schema() -> str:
    """The schema as the committed file's text (stable key order, trailing newline)."""
    return json.dumps(pack_json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render_schema(), end="")
