"""Levels belong to the packs: code outside the pack engine (procurement/packs) and the shipped
rule packs never names a national level id ("out_of_scope", "low", "medium", "high") as a
string literal, nor keeps a level order or colour table of its own. Level meaning comes from
`pack.level(id).rank/.tone/.high_risk/.out_of_scope/.label` (see docs/rule-packs.md).

The same words are other codes too (incident severities); those uses are allowed here, each
with its reason and its exact number of occurrences, so that a new level literal in the same
file still fails.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEVEL_IDS = frozenset({"out_of_scope", "low", "medium", "high"})
#: names of level tables that the code once kept beside the packs
LEVEL_TABLE_NAMES = ("LEVEL_ORDER", "LEVEL_COLORS", "LEVEL_RANK", "LEVEL_TONES")

#: (file, literal) -> (occurrences, why it is not a level)
ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("procurement/caio/incidents.py", "low"): (1, "SEVERITIES: incident severity codes"),
    ("procurement/caio/incidents.py", "medium"): (1, "SEVERITIES: incident severity codes"),
    ("procurement/caio/incidents.py", "high"): (1, "SEVERITIES: incident severity codes"),
    ("procurement/vocabulary.py", "low"): (1, "the words of the severity codes"),
    ("procurement/vocabulary.py", "medium"): (1, "the words of the severity codes"),
    ("procurement/vocabulary.py", "high"): (1, "the words of the severity codes"),
    ("procurement/demo/operations.py", "high"): (1, "a demo incident's severity"),
    ("procurement/demo/operations.py", "medium"): (1, "a demo incident's severity"),
    ("procurement/cli/packs.py", "out_of_scope"): (1, "a Level flag's name (packs show)"),
    ("procurement/ui/views/workspace.py", "medium"): (2, "Streamlit's column gap size (gap=)"),
}


def code_files() -> list[Path]:
    """Every Python file of the application outside the pack engine."""
    files = [ROOT / "app.py"]
    for path in sorted((ROOT / "procurement").rglob("*.py")):
        if (ROOT / "procurement" / "packs") in path.parents:
            continue
        files.append(path)
    return files


def docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of the docstring constants (prose, not code)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                found.add(id(body[0].value))
    return found


def level_literals() -> Counter:
    counts: Counter = Counter()
    for path in code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docs = docstring_nodes(tree)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and node.value in LEVEL_IDS and id(node) not in docs):
                counts[(path.relative_to(ROOT).as_posix(), node.value)] += 1
    return counts


def test_no_national_level_id_is_a_literal_outside_the_packs():
    counts = level_literals()
    unexpected = {key: n for key, n in counts.items() if key not in ALLOWED}
    assert not unexpected, (
        f"level ids as literals outside procurement/packs: {unexpected}; read the level from "
        "its pack (pack.level(id).high_risk / .out_of_scope / .tone / rank), or, if the word "
        "is another code, allow it in ALLOWED with the reason")
    changed = {key: (counts.get(key, 0), n) for key, (n, _why) in ALLOWED.items()
               if counts.get(key, 0) != n}
    assert not changed, f"allowed occurrences changed (found, allowed): {changed}"


def test_no_level_table_outside_the_packs():
    found = []
    for path in code_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(
                node, ast.Attribute) else node.name if isinstance(node, ast.alias) else None
            if name in LEVEL_TABLE_NAMES:
                found.append(f"{path.relative_to(ROOT).as_posix()}:{node.lineno}")
    assert not found, found


def test_the_check_sees_a_level_literal(tmp_path):
    """The scan finds what it is for: a comparison with a level id in code, not in a docstring."""
    source = '"""Docstring naming "high"."""\n\ndef f(case):\n    """"high" here too."""\n' \
             '    return case.level == "high"\n'
    tree = ast.parse(source)
    docs = docstring_nodes(tree)
    hits = [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and n.value in LEVEL_IDS and id(n) not in docs]
    assert hits == ["high"]
