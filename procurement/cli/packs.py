"""CLI commands for rule packs: `packs validate|list|show|diff` and `classify`.

    procurement packs validate PATH... [--tests]       exit 0 all valid; 1: FILE:LINE: path: message
    procurement packs list [--format text|json]        id, version, edition, effective_from, extends, fingerprint
    procurement packs show REF [--format text|json] [--lang LANG]
    procurement packs diff REF REF [--format text|json]
    procurement packs lock PATH...                    write/refresh PATH/pack.lock (the exact parent)
    procurement classify --pack REF --answers FILE [--lang LANG]      (FILE '-': standard input)

Every command accepts `--rules-dir DIR` (else `PROCUREMENT_RULES_DIR`, else the packs shipped
with procurement). Output shapes are a contract checked from outside: keep them stable. No traceback
reaches the user: library errors become a message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, cast

from procurement import config
from procurement.cli.common import RULES_DIR_HELP, add_command
from procurement.errors import ProcurementError
from procurement.packs import PackRegistry, classify
from procurement.packs.diff import diff_packs
from procurement.packs.loader import (
    LoadError,
    PackLoadError,
    load_pack_dir,
    read_pack_source,
    resolve_pack_file,
)
from procurement.packs.lock import LOCK_FILE, ParentLock, read_lock_file, render_lock
from procurement.packs.pack import ResolvedPack
from procurement.packs.packtests import run_pack_tests
from procurement.packs.texts import LANGUAGE_RE, pick_text


def _language(value: str) -> str:
    """An argparse type: a language code such as ja, en, pt-BR."""
    if not LANGUAGE_RE.match(value):
        raise argparse.ArgumentTypeError(f"not a language code: {value!r} (e.g. ja, en)")
    return value


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
    rules = argparse.ArgumentParser(add_help=False)
    rules.add_argument("--rules-dir", metavar="DIR", help=RULES_DIR_HELP)
    fmt: dict[str, Any] = {"choices": ("text", "json"), "default": "text",
           "help": "output format (default text; json is the stable shape for scripts)"}

    group = add_command(
        sub, "packs", help="validate, list, show, compare, lock and share rule packs",
        description="Rule packs are the questions, rules and checklists cases are classified "
                    "with (docs/rule-packs.md). These commands read the packs under the rules "
                    "folder and, for install/installed/bundle/select, the database.",
        examples=["procurement packs list", "procurement packs show jp-national@2 --lang en"],
    )
    commands = group.add_subparsers(dest="packs_command", metavar="COMMAND")
    commands.required = True

    validate = add_command(
        commands, "validate", parents=[rules], help="check pack folders; one line per error",
        description="Load each pack (a folder or its pack.yaml), resolving parents from the rules "
        "folder. Exit 0 when all are valid, 1 printing FILE:LINE: element-path: message per error.",
        examples=["procurement packs validate rules/city-strict --tests"],
    )
    validate.add_argument("paths", nargs="+", metavar="PATH",
                          help="a pack folder or its pack.yaml (several allowed)")
    validate.add_argument("--tests", action="store_true", help="also run each pack's tests/*.yaml cases")
    validate.set_defaults(handler=run_validate)

    lst = add_command(
        commands, "list", parents=[rules], help="list the packs found",
        description="One line per pack version: ID, VERSION, EDITION, EFFECTIVE_FROM, EXTENDS, "
                    "FINGERPRINT (first 12 characters); JSON: an array of objects with id, "
                    "version, edition, effective_from, extends, fingerprint and ref.",
        examples=["procurement packs list --format json"],
    )
    lst.add_argument("--format", **fmt)
    lst.set_defaults(handler=run_list)

    show = add_command(
        commands, "show", parents=[rules], help="show a resolved pack",
        description="Every element of the pack after its parents are applied, with provenance, "
                    "source and the layer it comes from.",
        examples=["procurement packs show city-strict@2 --lang en"],
    )
    show.add_argument("ref", metavar="REF", help="ID (newest version), ID@MAJOR or ID@X.Y.Z")
    show.add_argument("--format", **fmt)
    show.add_argument("--lang", type=_language, default="ja", metavar="LANG",
                      help="language of the texts (default ja; the pack's first language when it has none)")
    show.set_defaults(handler=run_show)

    diff = add_command(
        commands, "diff", parents=[rules], help="compare two packs",
        description="What B adds, removes and changes compared with A: questions, options, "
                    "rules, checklist items, steps.",
        examples=["procurement packs diff jp-national@1 jp-national@2 --ignore-source"],
    )
    diff.add_argument("a", metavar="REF", help="the pack compared from (ID, ID@MAJOR or ID@X.Y.Z)")
    diff.add_argument("b", metavar="REF", help="the pack compared to")
    diff.add_argument("--format", **fmt)
    diff.add_argument("--ignore-source", action="store_true", help="do not report changed sources")
    diff.set_defaults(handler=run_diff)

    lock = add_command(
        commands, "lock", parents=[rules],
        help="write PATH/pack.lock: the exact parent a child pack is published against",
        description="Resolve each child pack (a folder or its pack.yaml) on the newest parent matching its "
        "`extends` in the rules folder, ignoring an existing pack.lock, and write that parent "
        "(id@version#fingerprint) to pack.lock beside pack.yaml. Prints what it locked.",
        examples=["procurement packs lock rules/city-strict"],
    )
    lock.add_argument("paths", nargs="+", metavar="PATH",
                      help="a child pack folder or its pack.yaml (several allowed)")
    lock.set_defaults(handler=run_lock)

    # Pack sharing (install, installed, bundle, select) lives in the rulesharing group's module.
    from procurement.cli.rulesharing import register_store

    register_store(commands)

    cls = add_command(
        sub, "classify", parents=[rules], help="classify answers against a pack (JSON in, JSON out)",
        description="FILE holds one JSON object {question id: answer} or an array of them; an answer "
        "is an option value, a list of option values (multiple-choice questions) or a string "
        "(free-text questions). Prints a JSON object (or an array in the same order). Exit 2 for "
        "invalid answers or an unknown pack.",
        examples=["echo '{\"SC-1\": \"yes\"}' | procurement classify --pack jp-national@2 --answers -"],
    )
    cls.add_argument("--pack", required=True, metavar="REF", help="ID (newest), ID@MAJOR or ID@X.Y.Z")
    cls.add_argument("--answers", required=True, metavar="FILE",
                     help="JSON file of answers ('-' for standard input)")
    cls.add_argument("--lang", type=_language, default="ja", metavar="LANG",
                     help="language of the messages (default ja; the pack's first language when it has none)")
    cls.set_defaults(handler=run_classify)


# -- helpers -----------------------------------------------------------------------------------


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _registry(args) -> PackRegistry:
    """The packs under the rules folder; broken packs are skipped with a warning on stderr."""
    registry = PackRegistry.discover(args.rules_dir, strict=False)
    if registry.errors:
        print(
            f"warning: {len(registry.errors)} error(s) in packs under {config.rules_dir(args.rules_dir)}; "
            "those packs are skipped (run `procurement packs validate`):",
            file=sys.stderr,
        )
        for err in registry.errors:
            print(f"  {err}", file=sys.stderr)
    return registry


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


# -- commands ----------------------------------------------------------------------------------


def run_validate(args) -> int:
    try:
        files = [resolve_pack_file(p) for p in args.paths]
        targets = {f.resolve() for f in files}
        # Parents come from the rules folder, without the packs being validated (they are
        # loaded from the given paths, so a broken copy in rules/ cannot hide their errors).
        base = PackRegistry.discover(args.rules_dir, strict=False)
        registry = PackRegistry(
            pk for pk in base.packs() if pk.path is None or (pk.path / "pack.yaml").resolve() not in targets
        )
        sources = [read_pack_source(f) for f in files]
        added = registry.add_sources(sources, strict=False)
        errors: list[LoadError | str] = list(registry.errors)
        if args.tests:
            for pack in added:
                for result in run_pack_tests(pack):
                    if not result.passed:
                        for failure in result.failures:
                            errors.append(f"{result.file}:{result.line}: cases[{result.name}]: {failure}")
    except ProcurementError as exc:
        return _fail(str(exc))
    if errors:
        for err in errors:
            print(err)
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    for pack in added:
        print(f"ok {pack.path / 'pack.yaml' if pack.path else pack.key}: {pack.ref}")
    return 0


def _extends_text(pack: ResolvedPack) -> str:
    return pack.extends["resolved"] if pack.extends else "-"


def run_list(args) -> int:
    try:
        registry = _registry(args)
    except ProcurementError as exc:
        return _fail(str(exc))
    rows: list[dict[str, Any]] = [
        {
            "id": pk.id, "version": pk.version, "edition": pk.edition.isoformat(),
            "effective_from": pk.effective_from.isoformat(),
            "extends": pk.extends["resolved"] if pk.extends else None,
            "fingerprint": pk.fingerprint, "ref": pk.ref,
        }
        for pk in registry.packs()
    ]
    if args.format == "json":
        _print_json(rows)
        return 0
    header = ("ID", "VERSION", "EDITION", "EFFECTIVE_FROM", "EXTENDS", "FINGERPRINT")
    table = [header] + [
        (r["id"], r["version"], r["edition"], r["effective_from"], r["extends"] or "-", r["fingerprint"][:12])
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def render_pack_text(pack: ResolvedPack, lang: str = "ja") -> str:
    """The resolved pack as readable text: every element with provenance and layer."""
    def tx(texts) -> str:
        return pick_text(texts, lang, pack.languages) or ""

    def src(el) -> str:
        s = el.source
        parts = [s.get("document", "")] + [s[k] for k in ("locator", "url") if s.get(k)]
        return " / ".join(parts)

    def ov(el) -> str:
        o = getattr(el, "override", None)
        return f" [overridden by {o['layer']}: {tx(o['reason'])}]" if o else ""

    def js(value) -> str:
        return json.dumps(value, ensure_ascii=False)

    locked = ""
    if pack.parent_ref is not None:
        locked = " (locked)" if pack.parent_locked else " (newest match, not locked)"
    out = [
        f"{pack.ref}  {tx(pack.title)}",
        (f"edition {pack.edition.isoformat()}, effective from {pack.effective_from.isoformat()}, "
         f"extends {_extends_text(pack)}{locked}, license {pack.license}"),
        f"layers: {' > '.join(pack.layers)}",
        f"languages: {', '.join(pack.languages)}{'' if pack.languages_declared else ' (legacy default)'}",
        f"fingerprint: {pack.fingerprint}",
        "",
        f"levels (low to high; default {pack.default_level}):",
    ]
    for lv in pack.levels:
        marks = [f"tone {lv.tone}"] + [k for k in ("high_risk", "out_of_scope") if getattr(lv, k)]
        legacy = f"; legacy default: {', '.join(lv.legacy)}" if lv.legacy else ""
        out.append(f"  {lv.id}: {tx(lv.label)} [{', '.join(marks)}{legacy}]  ({lv.provenance}; {lv.layer}){ov(lv)}")
        if lv.next_steps:
            out.append(f"      next steps: {tx(lv.next_steps)}")
    out.append("")
    out.append("questions:")
    for q in pack.questions:
        req = "required" if q.required else "optional"
        kind = f"text, max {q.max_length}" if q.is_text else ("multiple" if q.multiple else "choice")
        out.append(f"  {q.id} [{q.step}, {req}, {kind}] {tx(q.text)}  ({q.provenance}; {q.layer}){ov(q)}")
        if q.options:
            opts = [o.value + (f" ({o.points:+d})" if o.points is not None else "") for o in q.options]
            out.append(f"      options: {', '.join(opts)}")
        if q.applies_when:
            out.append(f"      applies_when: {js(q.applies_when)}")
        out.append(f"      source: {src(q)}")
    out.append("")
    out.append("rules:")
    for r in pack.rules:
        stop = ", stop" if r.stop else ""
        out.append(f"  {r.id} -> {r.level}{stop}  ({r.provenance}; {r.layer}){ov(r)}")
        out.append(f"      when: {js(r.when)}")
        out.append(f"      {tx(r.message)}")
    out.append("")
    out.append("blocking findings:")
    for b in pack.blocking:
        out.append(f"  {b.id}  ({b.provenance}; {b.layer}){ov(b)}")
        out.append(f"      when: {js(b.when)}")
        out.append(f"      {tx(b.message)}")
    if pack.flags:
        out.append("")
        out.append("flags:")
        for f in pack.flags:
            out.append(f"  {f.id}: {tx(f.label)}  ({f.provenance}; {f.layer}){ov(f)}")
            out.append(f"      when: {js(f.when)}")
            out.append(f"      {tx(f.message)}")
    if pack.consistency:
        out.append("")
        out.append("consistency rules:")
        for c in pack.consistency:
            out.append(f"  {c.id}  ({c.provenance}; {c.layer}){ov(c)}")
            out.append(f"      when: {js(c.when)}")
            out.append(f"      {tx(c.message)}")
    out.append("")
    out.append("steps:")
    for s in pack.steps:
        cond = f" when {js(s.applies_when)}" if s.applies_when else ""
        kind = f" [{s.kind}: {tx(s.body)}]" if s.kind and s.body else (f" [{s.kind}]" if s.kind else "")
        out.append(f"  {s.id}: {tx(s.title)}{kind}{cond}  ({s.provenance}; {s.layer}){ov(s)}")
    for cl in pack.checklists:
        out.append("")
        out.append(f"checklist {cl.id}: {tx(cl.title)} (step {cl.step}; {cl.layer})")
        for it in cl.items:
            when = []
            if it.required_when:
                when.append(f"required when {js(it.required_when)}")
            if it.recommended_when:
                when.append(f"recommended when {js(it.recommended_when)}")
            if not it.evidence_required:
                when.append("no evidence required")
            out.append(f"  {it.id} [{it.category}] {tx(it.text)}  ({it.provenance}; {it.layer}){ov(it)}")
            out.append(f"      {'; '.join(when)}")
    return "\n".join(out)


def run_show(args) -> int:
    try:
        pack = _registry(args).resolve(args.ref)
    except ProcurementError as exc:
        return _fail(str(exc))
    if args.format == "json":
        _print_json(pack.to_dict())
    else:
        print(render_pack_text(pack, args.lang))
    return 0


def run_diff(args) -> int:
    try:
        registry = _registry(args)
        result = diff_packs(
            registry.resolve(args.a), registry.resolve(args.b),
            ignore=("source",) if args.ignore_source else (),
        )
    except ProcurementError as exc:
        return _fail(str(exc))
    if args.format == "json":
        _print_json(result.to_dict())
    else:
        print(result.render_text())
    return 0


def run_lock(args) -> int:
    """Resolve each pack on the newest matching parent (ignoring its pack.lock) and write the lock."""
    try:
        registry = PackRegistry.discover(args.rules_dir, strict=False)
    except ProcurementError as exc:
        return _fail(str(exc))
    errors: list[str] = []
    for path in args.paths:
        file = resolve_pack_file(path)
        target = file.resolve()
        # The parents come from the rules folder, without the pack being locked itself.
        parents = PackRegistry(pk for pk in registry.packs()
                               if pk.path is None or (pk.path / "pack.yaml").resolve() != target)
        try:
            pack = load_pack_dir(file, parents=parents, lock=False)
        except PackLoadError as exc:
            errors.extend(str(e) for e in exc.errors)
            continue
        except ProcurementError as exc:
            errors.append(f"{file}: {exc}")
            continue
        if pack.parent_ref is None:
            errors.append(f"{file}: {pack.key} extends nothing; only a child pack has a parent to lock")
            continue
        # A pack with a parent_ref has `extends` (the loader sets both).
        parent = parents.resolve(cast("dict[str, str]", pack.extends)["resolved"])
        lock_file = file.parent / LOCK_FILE
        previous: ParentLock | None = None
        if lock_file.is_file():
            try:
                previous = read_lock_file(lock_file)
            except ValueError:
                previous = None
        lock_file.write_text(render_lock(parent.id, parent.version, parent.fingerprint), encoding="utf-8")
        change = ""
        if previous is not None and not (previous.pack_id == parent.id and previous.version == parent.version
                                         and parent.fingerprint.startswith(previous.fingerprint)):
            change = f" (was {previous.short_ref})"
        elif previous is not None:
            change = " (unchanged)"
        print(f"locked {pack.key} to {parent.ref}{change}: {lock_file} (content {pack.ref})")
    if errors:
        for err in errors:
            print(err)
        print(f"{len(errors)} error(s)", file=sys.stderr)
        return 1
    return 0


def _read_answers(source: str) -> Any:
    if source == "-":
        text = sys.stdin.read()
        name = "stdin"
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {source}: {getattr(exc, 'strerror', None) or exc}") from None
        name = source
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}:{exc.lineno}: not valid JSON ({exc.msg})") from None


def run_classify(args) -> int:
    try:
        data = _read_answers(args.answers)
    except ValueError as exc:
        return _fail(str(exc))
    if not isinstance(data, (dict, list)):
        return _fail("answers must be a JSON object {question id: answer} or an array of them")
    try:
        pack = _registry(args).resolve(args.pack)
    except ProcurementError as exc:
        return _fail(str(exc))
    batch = data if isinstance(data, list) else [data]
    results = []
    for i, answers in enumerate(batch):
        try:
            results.append(classify(pack, answers).to_dict(args.lang))
        except ProcurementError as exc:
            where = f"answers[{i}]: " if isinstance(data, list) else ""
            return _fail(f"{where}{exc}")
    _print_json(results if isinstance(data, list) else results[0])
    return 0
