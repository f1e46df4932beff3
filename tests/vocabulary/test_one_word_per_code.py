"""One word per code: `procurement.vocabulary` is the only place a stored code gets its words.

Fails when a catalog, a module or a document names a code in words of its own: a superseded word
(`Term.replaces`), a mapping from codes to words outside the vocabulary, a catalog key that
translates a code, or a catalog text that repeats a vocabulary word instead of referring to it
(`{@kind.code}`). Also checks that every code the records can hold has its words.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from procurement import vocabulary
from procurement.vocabulary import EVENT_DECISIONS, EVENT_TYPES, TERMS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "procurement"
VOCABULARY = PACKAGE / "vocabulary.py"
CATALOGS = PACKAGE / "ui" / "i18n"
#: Documents whose words must be the vocabulary's. The glossary is not among them: it lists the
#: words to avoid, by design.
DOCUMENTS = [p for p in sorted((ROOT / "docs").glob("*.md")) if p.name != "glossary.md"] + [
    ROOT / "README.md"]


def modules() -> list[Path]:
    """Every module of the package but the vocabulary itself (which lists the old words)."""
    return [p for p in sorted(PACKAGE.rglob("*.py")) if p != VOCABULARY]


def string_literals(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string constant of a module, f-string pieces included."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def catalog_files() -> list[Path]:
    return sorted(CATALOGS.glob("*/*.json"))


def raw_catalog(path: Path) -> dict[str, str]:
    return json.loads(path.read_text(encoding="utf-8"))


def superseded_pattern(word: str) -> re.Pattern[str]:
    """A superseded word as it may stand in text. A noun made from a verb (差し戻し, 取り下げ)
    is only the old word when no verb ending follows (差し戻しました is the verb, in 公用文 too);
    提出済/承認済 are old only when the okurigana み does not follow."""
    if word.endswith(("し", "げ")):
        return re.compile(re.escape(word) + "(?![まてたす])")
    if word.endswith("済"):
        return re.compile(re.escape(word) + "(?!み)")
    return re.compile(re.escape(word))


SUPERSEDED = [
    (kind, code, old, superseded_pattern(old))
    for kind, terms in TERMS.items() for code, term in terms.items() for old in term.replaces
]


def test_every_code_the_records_hold_has_one_word_per_language():
    from procurement.caio.incidents import SEVERITIES
    from procurement.caio.operation import ISMAP_LISTINGS
    from procurement.caio.portfolio import board_report_state
    from procurement.db.models import BOARD_REPORT_FIELDS
    from procurement.records import policy
    from procurement.records.cases import CASE_DETAIL_FIELDS

    stored = {
        "case_status": set(policy.CASE_STATUSES),
        "checklist_status": set(policy.CHECKLIST_STATUSES),
        "decision": set(policy.DECISION_KINDS),
        "role": set(policy.ROLES),
        "org_kind": set(policy.ORG_KINDS),
        "incident_status": set(policy.INCIDENT_STATUSES),
        "severity": set(SEVERITIES),
        "ismap": set(ISMAP_LISTINGS),
        "board_field": set(BOARD_REPORT_FIELDS),
        "board_state": {board_report_state(None), board_report_state({}),
                        board_report_state(dict.fromkeys(BOARD_REPORT_FIELDS, "x"))},
    }
    for kind, codes in stored.items():
        assert set(TERMS[kind]) == codes, kind  # no code without words, no words without a code
    assert set(CASE_DETAIL_FIELDS) <= set(TERMS["record_field"])
    japanese = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    for kind, terms in TERMS.items():
        for code, term in terms.items():
            assert term.ja.strip() and term.en.strip(), (kind, code)
            assert japanese.search(term.ja) or term.ja.startswith("ISMAP"), (kind, code, term.ja)


@pytest.mark.parametrize("kind", sorted(TERMS))
def test_no_two_codes_of_a_kind_share_a_word(kind):
    for lang in ("ja", "en"):
        words = [term.in_(lang) for term in TERMS[kind].values()]
        assert len(set(words)) == len(words), (kind, lang, words)


def test_an_event_that_records_a_decision_has_the_decision_s_words():
    assert set(EVENT_DECISIONS) <= set(EVENT_TYPES)
    for event_type, kind in EVENT_DECISIONS.items():
        for lang in ("ja", "en"):
            assert vocabulary.event_word(event_type, lang) == vocabulary.word("decision", kind, lang)
    japanese = [vocabulary.event_word(e, "ja") for e in EVENT_TYPES]
    assert len(set(japanese)) == len(japanese), japanese


def test_superseded_words_appear_in_no_module_catalog_or_document():
    found = []
    for path in modules():
        for line, text in string_literals(path):
            found += [f"{path.relative_to(ROOT)}:{line}: {old} (now {vocabulary.word(k, c)})"
                      for k, c, old, pattern in SUPERSEDED if pattern.search(text)]
    for path in catalog_files():
        for key, text in raw_catalog(path).items():
            found += [f"{path.relative_to(ROOT)}: {key}: {old} (now {vocabulary.word(k, c)})"
                      for k, c, old, pattern in SUPERSEDED if pattern.search(text)]
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {old} (now {vocabulary.word(k, c)})"
                  for k, c, old, pattern in SUPERSEDED if pattern.search(text)]
    assert found == []


def test_the_superseded_word_check_finds_old_words_and_spares_verbs():
    returned = superseded_pattern("差し戻し")
    assert returned.search("コメント（差し戻しの場合は必須）")
    assert not returned.search("案件を差し戻しました") and not returned.search("差し戻す")
    approved = superseded_pattern("承認済")
    assert approved.search("承認済 (approved)") and not approved.search("承認済み")


def _code_kind(key: str) -> str | None:
    """The kind whose code `key` names (a bare code, `status.draft` style, or an event type)."""
    if key in EVENT_TYPES:
        return "event"
    code = key.rsplit(".", 1)[-1]
    kinds = [kind for kind, terms in TERMS.items() if code in terms and kind != "concept"]
    # A code several kinds share (`submitted`: a case status and a four-eyes reason) counts as
    # the first kind's: skipping it would let a table of such codes go unnoticed.
    return kinds[0] if kinds else None


#: Japanese text short enough to be a word or a label (not a sentence, not user content).
_JAPANESE_WORD = re.compile(r"^[^\s\d。、]{1,16}$")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _says_words(node: ast.AST, kind: str) -> bool:
    """Whether a dict value is words for a code: a short Japanese label, an English vocabulary
    word of that kind, or a {ja, en}-style mapping / Term(...) holding such text."""
    english = ({t.term.en for t in EVENT_TYPES.values()} if kind == "event"
               else {t.en for t in TERMS.get(kind, {}).values()})
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            text = child.value
            if (_JAPANESE.search(text) and _JAPANESE_WORD.match(text)) or text in english:
                return True
    return False


def test_no_module_but_the_vocabulary_maps_codes_to_words():
    offenders = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Dict):
                continue
            by_kind: dict[str, int] = {}
            for key, value in zip(node.keys, node.values):
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    continue
                kind = _code_kind(key.value)
                if kind is not None and _says_words(value, kind):
                    by_kind[kind] = by_kind.get(kind, 0) + 1
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}: words for {kind} codes"
                          for kind, count in by_kind.items() if count >= 2]
    assert offenders == []


def test_the_mapping_check_would_see_a_table_of_status_words():
    tree = ast.parse('LABELS = {"status.draft": "作成中", "status.submitted": "審査中", "x": 1}')
    (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.Dict)]
    kinds = [_code_kind(k.value) for k in node.keys]
    assert kinds[:2] == ["case_status", "case_status"]
    assert all(_says_words(v, "case_status") for v in node.values[:2])
    colors = ast.parse('{"draft": "gray", "submitted": "blue"}').body[0].value
    assert not any(_says_words(v, "case_status") for v in colors.values)


#: Catalog key families that once translated codes; words for codes are not catalog keys.
CODE_FAMILIES = re.compile(
    r"^(status|decision|role|org_kind|checklist_status|event)\.|^incident\.(severity|status)\."
    r"|^operation\.ismap\.|^portfolio\.board\.")


def test_catalogs_hold_no_words_for_codes():
    keys = [f"{path.parent.name}/{path.name}: {key}" for path in catalog_files()
            for key in raw_catalog(path) if CODE_FAMILIES.search(key)]
    assert keys == []


def test_a_japanese_label_that_is_a_vocabulary_word_refers_to_it():
    """A Japanese label equal to a vocabulary word is written `{@kind.code}`, so that changing
    the word in the vocabulary changes the screen too. (English labels are not checked: short
    English words such as "Open" or "Complete" also name other things.)"""
    words = {term.ja: f"{kind}.{code}" for kind, terms in TERMS.items()
             for code, term in terms.items()}
    literal = [f"ja/{path.name}: {key} = {text!r} -> {{@{words[text.strip()]}}}"
               for path in sorted((CATALOGS / "ja").glob("*.json"))
               for key, text in raw_catalog(path).items() if text.strip() in words]
    assert literal == []


def test_screens_say_the_vocabulary_s_words():
    from procurement.ui.i18n import load_catalog

    ja = load_catalog("ja")
    assert ja["cases.voided"].startswith("⚠ " + vocabulary.word("decision", "void", "ja"))
    assert ja["result.blocking"].startswith(vocabulary.word("concept", "blocking", "ja"))
    assert vocabulary.word("checklist_status", "pending", "ja") in ja["gap.item_pending"]
