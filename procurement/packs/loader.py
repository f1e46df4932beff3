"""Loading a pack folder: strict YAML, model validation, layering on a parent, reference checks.

Every error found in a pack is collected and raised at once as `PackLoadError`, each a `LoadError`
naming the file, the line (where the YAML gives one), the element path and what was expected.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from procurement.errors import InputError
from procurement.packs import legacy
from procurement.packs import model as m
from procurement.packs import pack as p
from procurement.packs.conditions import CompileContext, Cond, QInfo, compile_condition
from procurement.packs.lock import (
    LOCK_FILE,
    LockError,
    ParentLock,
    parse_lock_ref,
    read_lock_file,
)
from procurement.packs.texts import LEGACY_LANGUAGES, text_problems
from procurement.packs.yamlreader import YamlError, read_yaml

PACK_FILE = "pack.yaml"
#: Element kinds listed at the top level of a pack (checklists and their items aside).
SIMPLE_KINDS = ("levels", "questions", "rules", "blocking", "flags", "consistency", "steps")


@dataclass(frozen=True)
class LoadError:
    """One problem in a pack: `FILE:LINE: element-path: message`."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '(pack)'}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "path": self.path, "message": self.message}


class PackLoadError(InputError):
    """A pack (or several) that cannot be loaded; `errors` lists every problem found."""

    code = "pack_invalid"

    def __init__(self, errors: Iterable[LoadError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors), count=len(self.errors))


# -- versions ----------------------------------------------------------------------------------

Version = tuple[int, int, int]
_CMP = re.compile(r"^\s*(>=|<=|==|=|>|<)?\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$")


def parse_version(text: str) -> Version:
    a, b, c = text.split(".")
    return int(a), int(b), int(c)


def parse_range(text: str) -> Callable[[Version], bool]:
    """A version range: comparators joined by commas (`>=2.0.0,<3.0.0`), or a bare prefix
    (`2` = any 2.x.y, `2.1` = any 2.1.y, `2.1.0` = exactly that). Raises ValueError."""
    tests: list[Callable[[Version], bool]] = []
    for part in text.split(","):
        mt = _CMP.match(part)
        if not mt:
            raise ValueError(
                f"bad version range {text!r} (expected e.g. '>=2.0.0,<3.0.0', '2' or '2.0.0')"
            )
        op = mt.group(1)
        nums = [int(x) for x in mt.group(2, 3, 4) if x is not None]
        if op is None or op in ("=", "=="):
            prefix = tuple(nums)

            def has_prefix(v: Version, pr: tuple[int, ...] = prefix) -> bool:
                return v[: len(pr)] == pr

            tests.append(has_prefix)
            continue
        ver = tuple(nums + [0] * (3 - len(nums)))
        tests.append(
            {
                ">=": lambda v, w=ver: v >= w,
                ">": lambda v, w=ver: v > w,
                "<=": lambda v, w=ver: v <= w,
                "<": lambda v, w=ver: v < w,
            }[op]
        )
    return lambda v: all(t(v) for t in tests)


# -- reading one file --------------------------------------------------------------------------


@dataclass
class PackSource:
    """One pack.yaml read and validated against the file model (not yet resolved)."""

    file: Path
    raw: Any = None
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)
    model: m.PackFile | None = None
    errors: list[LoadError] = field(default_factory=list)
    #: the parent this pack is locked to (its pack.lock, or a lock given by the caller)
    lock: ParentLock | None = None

    @property
    def key(self) -> str:
        return f"{self.model.id}@{self.model.version}" if self.model else str(self.file)

    def error(self, path: tuple[Any, ...], message: str) -> None:
        self.errors.append(
            LoadError(str(self.file), line_for(self.lines, path), render_path(self.raw, path), message)
        )

    def lock_error(self, message: str) -> None:
        """An error about the lock: at its line in pack.lock, or at `extends` when the caller
        gave the lock."""
        if self.lock is not None and self.lock.file is not None:
            self.errors.append(LoadError(self.lock.file, self.lock.line, "extends", message))
        else:
            self.error(("extends",), message)


def line_for(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return 1


def render_path(raw: Any, path: tuple[Any, ...]) -> str:
    """`questions[SC-2].applies_when.not` style: list positions shown by the element's id."""
    out = ""
    node = raw
    for part in path:
        if isinstance(part, int):
            label = str(part)
            if isinstance(node, list) and 0 <= part < len(node):
                item = node[part]
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    label = item["id"]
                node = item
            else:
                node = None
            out += f"[{label}]"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def resolve_pack_file(path: str | os.PathLike[str]) -> Path:
    """A pack folder or its pack.yaml -> the pack.yaml path."""
    file = Path(path)
    return file / PACK_FILE if file.is_dir() else file


def read_pack_source(path: str | os.PathLike[str], *, lock: str | ParentLock | bool | None = None) -> PackSource:
    """Read and validate one pack.yaml (structure only); errors are kept on the result.

    `lock`: None reads the pack.lock beside the file when there is one; a ref
    `id@x.y.z#fingerprint` (or a ParentLock) locks the parent to that instead; False ignores any
    pack.lock (the newest parent matching `extends`, as while writing a pack)."""
    file = resolve_pack_file(path)
    src = PackSource(file)
    try:
        data = file.read_bytes()
    except OSError as exc:
        src.errors.append(LoadError(str(file), 0, "", f"cannot read the file: {exc.strerror or exc}"))
        return src
    try:
        src.raw, src.lines = read_yaml(data)
    except YamlError as exc:
        src.errors.append(LoadError(str(file), exc.line, "", exc.message))
        return src
    if not isinstance(src.raw, dict):
        src.error((), f"the top level must be a mapping (id, version, title, ...); got {type(src.raw).__name__}")
        return src
    try:
        src.model = m.PackFile.model_validate(src.raw)
    except ValidationError as exc:
        for err in exc.errors():
            _report_pydantic(err, (), m.PackFile, src.error)
        return src
    _check_duplicate_ids(src)
    _read_lock(src, lock)
    return src


def _read_lock(src: PackSource, lock: str | ParentLock | bool | None) -> None:
    assert src.model is not None
    if lock is False or lock is True:
        if lock is True:
            raise TypeError("lock=True is not meaningful; give a ref, None or False")
        return
    if isinstance(lock, ParentLock):
        src.lock = lock
    elif isinstance(lock, str):
        try:
            src.lock = parse_lock_ref(lock)
        except LockError as exc:
            src.error(("extends",), f"lock: {exc.message}")
            return
    else:
        lock_file = src.file.parent / LOCK_FILE
        if not lock_file.is_file():
            return
        try:
            src.lock = read_lock_file(lock_file)
        except LockError as exc:
            src.errors.append(LoadError(str(lock_file), exc.line, "extends", exc.message))
            return
    ext = src.model.extends
    lk = src.lock
    if ext is None:
        src.lock_error(f"locked to {lk.short_ref}, but the pack extends nothing")
    elif lk.pack_id != ext.id:
        src.lock_error(f"locked to {lk.short_ref}, but the pack extends {ext.id!r}; "
                       "run `procurement packs lock` to refresh the lock")
    else:
        try:
            in_range = parse_range(ext.version)(lk.version_tuple)
        except ValueError:
            return  # the range itself is reported when the parent is looked up
        if not in_range:
            src.lock_error(f"locked to {lk.short_ref}, outside the range {ext.version!r} of extends; "
                           "run `procurement packs lock` to refresh the lock")


def _report_pydantic(err: ErrorDetails, prefix: tuple[Any, ...], root: type[BaseModel],
                     report: Callable[[tuple[Any, ...], str], None]) -> None:
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "missing":
        report(prefix + loc[:-1], f"missing key {loc[-1]!r}")
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(root, loc[:-1])
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        report(prefix + loc[:-1], f"unknown key {loc[-1]!r}{hint}")
    else:
        got = err.get("input")
        shown = repr(got)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = err["msg"]
        if kind == "string_pattern_mismatch":
            if loc and loc[-1] == "version":
                msg = "expected a version X.Y.Z (SemVer)"
            else:
                msg = "expected an id of letters, digits, '-', '_' or '.'"
        elif kind == "literal_error":
            msg = msg.replace("Input should be", "expected")
        report(prefix + loc, f"{msg}; got {shown}")


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _model_of(typing.get_args(annotation)[0])
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    cls: type[BaseModel] | None = root
    for part in loc:
        if cls is None:
            return []
        if isinstance(part, int):
            continue
        fld = cls.model_fields.get(part)
        cls = _model_of(fld.annotation) if fld else None
    return list(cls.model_fields) if cls else []


def _check_duplicate_ids(src: PackSource) -> None:
    seen: dict[str, tuple[Any, ...]] = {}
    assert src.model is not None

    def see(el_id: str, path: tuple[Any, ...]) -> None:
        if el_id in seen:
            first = line_for(src.lines, seen[el_id])
            src.error(path + ("id",), f"duplicate id {el_id!r} (first used on line {first}); ids are unique in a pack")
        else:
            seen[el_id] = path

    for kind in SIMPLE_KINDS:
        for i, el in enumerate(getattr(src.model, kind)):
            see(el.id, (kind, i))
    for i, cl in enumerate(src.model.checklists):
        if not cl.extend:
            see(cl.id, ("checklists", i))
        for j, it in enumerate(cl.items):
            see(it.id, ("checklists", i, "items", j))
    for i, q in enumerate(src.model.questions):
        values: set[str] = set()
        for j, o in enumerate(q.options):
            if o.value in values:
                src.error(("questions", i, "options", j, "value"), f"duplicate option value {o.value!r}")
            values.add(o.value)


# -- layering ----------------------------------------------------------------------------------


@dataclass
class Element:
    """An element during resolution: its validated model, layer and where it was written."""

    kind: str
    model: Any
    layer: str
    source: PackSource
    path: tuple[Any, ...]
    override: dict[str, Any] | None = None
    checklist: str | None = None  # items only


def resolve_source(src: PackSource, parent: p.ResolvedPack | None) -> p.ResolvedPack:
    """Resolve a validated source on its parent (None for a root pack); raise every error."""
    if src.errors or src.model is None:
        raise PackLoadError(src.errors)
    fm = src.model
    layer = f"{fm.id}@{fm.version}"
    elements: list[Element] = list(parent.elements) if parent is not None else []
    by_id = {e.model.id: e for e in elements if e.kind != "checklists"}
    checklist_by_id = {e.model.id: e for e in elements if e.kind == "checklists"}

    if parent is not None and src.lock is not None and not src.lock.matches(parent.fingerprint):
        src.lock_error(
            f"locked parent {src.lock.short_ref} differs from the loaded {parent.ref} "
            f"(fingerprint {parent.fingerprint[:12]}): {layer} was published against other content; "
            "load the parent it was published against, or refresh the lock with `procurement packs lock`"
        )
        raise PackLoadError(src.errors)

    languages, declared = _languages(src, parent)
    _check_texts(src, fm, (), languages, declared)

    if parent is None:
        if fm.extends is not None:
            src.error(("extends",), "internal: parent not given")
        if fm.overrides:
            src.error(("overrides",), "a pack that extends nothing has nothing to override")
        if fm.removes:
            src.error(("removes",), "a pack that extends nothing has nothing to remove")
    else:
        if fm.levels:
            src.error(("levels",), f"levels come from the base pack ({parent.layers[0]}); a child pack cannot add levels")
        if fm.default_level is not None and fm.default_level != parent.default_level:
            src.error(("default_level",), f"default_level comes from the base pack ({parent.default_level!r})")
        parent_ids = set(by_id) | set(checklist_by_id)
        _apply_removes(src, elements, parent_ids, parent.key)
        _apply_overrides(src, elements, parent.key, layer, languages, declared)

    by_id = {e.model.id: e for e in elements if e.kind != "checklists"}
    checklist_by_id = {e.model.id: e for e in elements if e.kind == "checklists"}
    # Additions: anything new; a clash with an inherited id must go through `overrides`.
    for kind in SIMPLE_KINDS:
        for i, el in enumerate(getattr(fm, kind)):
            if el.id in by_id or el.id in checklist_by_id:
                _clash(src, (kind, i, "id"), el.id, (by_id.get(el.id) or checklist_by_id[el.id]).layer)
                continue
            elements.append(Element(kind, el, layer, src, (kind, i)))
    for i, cl in enumerate(fm.checklists):
        path = ("checklists", i)
        if cl.extend:
            if parent is None or cl.id not in checklist_by_id:
                where = f"in {parent.key}" if parent is not None else "(this pack extends nothing)"
                src.error(path + ("id",), f"extend: true needs an existing checklist {cl.id!r} {where}")
                continue
            if cl.title is not None or cl.step is not None:
                src.error(path, "an extending checklist only adds items; change title or step under overrides")
        else:
            if cl.id in checklist_by_id or cl.id in by_id:
                _clash(src, path + ("id",), cl.id, (checklist_by_id.get(cl.id) or by_id[cl.id]).layer)
                continue
            for key in ("title", "step"):
                if getattr(cl, key) is None:
                    src.error(path, f"missing key {key!r}")
            elements.append(Element("checklists", cl.model_copy(update={"items": []}), layer, src, path))
        for j, it in enumerate(cl.items):
            if it.id in by_id or it.id in checklist_by_id:
                _clash(src, path + ("items", j, "id"), it.id, (by_id.get(it.id) or checklist_by_id[it.id]).layer)
                continue
            elements.append(Element("items", it, layer, src, path + ("items", j), checklist=cl.id))

    default_level = parent.default_level if parent is not None else fm.default_level
    if parent is None and default_level is None:
        src.error((), "missing key 'default_level'")
    if src.errors:
        raise PackLoadError(src.errors)
    resolved = _build(src, parent, elements, layer, default_level, languages, declared)
    if src.errors:
        raise PackLoadError(src.errors)
    return resolved


def _languages(src: PackSource, parent: p.ResolvedPack | None) -> tuple[tuple[str, ...], bool]:
    """The pack's languages and whether some layer declared them. They come from the base pack;
    a child may repeat the same list (and so declare it on a legacy base)."""
    fm = src.model
    assert fm is not None
    own = tuple(fm.languages) if fm.languages is not None else None
    if own is not None and len(set(own)) != len(own):
        src.error(("languages",), "a language is listed twice")
    if parent is None:
        return (own or LEGACY_LANGUAGES), own is not None
    if own is not None and own != parent.languages:
        src.error(("languages",), f"languages come from the base pack ({', '.join(parent.languages)}); "
                                  "a child pack may only repeat that list")
    return parent.languages, parent.languages_declared or own is not None


def _check_texts(src: PackSource, node: Any, path: tuple[Any, ...], languages: tuple[str, ...],
                 declared: bool, report_at: tuple[Any, ...] | None = None) -> None:
    """Check every text under a validated model node against the pack's languages."""
    if isinstance(node, m.Text):
        for key, message in text_problems(node.root, languages, declared):
            where = path if key is None else path + (key,)
            src.error(where if report_at is None else report_at + where, message)
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            _check_texts(src, getattr(node, name), path + (name,), languages, declared, report_at)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_texts(src, value, path + (i,), languages, declared, report_at)


def _clash(src: PackSource, path: tuple[Any, ...], el_id: str, layer: str) -> None:
    src.error(
        path,
        f"id {el_id!r} is already defined by {layer}; to change it list it under overrides "
        "(with a reason), to drop it under removes",
    )


def _apply_removes(src: PackSource, elements: list[Element], parent_ids: set[str], parent_key: str) -> None:
    assert src.model is not None
    for i, rm in enumerate(src.model.removes):
        if rm.id not in parent_ids:
            src.error(("removes", i, "id"), f"{parent_key} has no element {rm.id!r} to remove")
            continue
        target = next(e for e in elements if e.model.id == rm.id)
        if target.kind == "levels":
            src.error(("removes", i, "id"), "levels cannot be removed by a child pack")
            continue
        elements[:] = [
            e for e in elements
            if e is not target and not (target.kind == "checklists" and e.checklist == rm.id)
        ]


def _apply_overrides(src: PackSource, elements: list[Element], parent_key: str, layer: str,
                     languages: tuple[str, ...], declared: bool) -> None:
    assert src.model is not None
    seen: set[str] = set()
    for i, ov in enumerate(src.model.overrides):
        path = ("overrides", i)
        if ov.id in seen:
            src.error(path + ("id",), f"{ov.id!r} is overridden twice")
            continue
        seen.add(ov.id)
        idx = next((k for k, e in enumerate(elements) if e.model.id == ov.id), None)
        if idx is None:
            src.error(path + ("id",), f"{parent_key} has no element {ov.id!r} to override (or it was removed)")
            continue
        target = elements[idx]
        changes = dict(ov.model_extra or {})
        if not changes:
            src.error(path, "an override must change at least one field besides id and reason")
            continue
        if target.kind == "checklists" and ("items" in changes or "extend" in changes):
            src.error(path, "override checklist items one by one, by item id; add items with extend: true")
            continue
        data = target.model.model_dump(exclude_none=True)
        data.update(changes)
        cls = type(target.model)
        try:
            new_model = cls.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                # Only errors on changed fields are the override's fault; report them there.
                _report_pydantic(err, path, cls, src.error)
            continue
        for name in sorted(changes):
            _check_texts(src, getattr(new_model, name, None), (name,), languages, declared, report_at=path)
        elements[idx] = Element(
            target.kind, new_model, layer, src, path,
            override={"layer": layer, "reason": ov.reason.as_dict(),
                      "fields": sorted(changes), "replaces": target.layer},
            checklist=target.checklist,
        )


# -- building the resolved pack ----------------------------------------------------------------


def _src_dict(s: m.Source) -> dict[str, str]:
    return {k: v for k, v in s.model_dump().items() if v is not None}


@overload
def _t(t: m.Text) -> dict[str, str]: ...
@overload
def _t(t: m.Text | None) -> dict[str, str] | None: ...
def _t(t: m.Text | None) -> dict[str, str] | None:
    return None if t is None else t.as_dict()


def _declared(model: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """The optional keys an element wrote (absent ones stay out of the fingerprinted content)."""
    out: dict[str, Any] = {}
    for key in keys:
        value = getattr(model, key)
        if value is not None:
            out[key] = value.as_dict() if isinstance(value, m.Text) else value
    return out


def _build(src: PackSource, parent: p.ResolvedPack | None, elements: list[Element], layer: str,
           default_level: str | None, languages: tuple[str, ...], languages_declared: bool) -> p.ResolvedPack:
    fm = src.model
    assert fm is not None
    levels = [e for e in elements if e.kind == "levels"]
    level_rank = {e.model.id: i for i, e in enumerate(levels)}
    if not levels:
        src.error(("levels",), "a base pack needs at least one level (ordered low to high)")
    elif default_level not in level_rank:
        src.error(("default_level",), f"unknown level {default_level!r} (levels: {', '.join(level_rank)})")
    steps = [e for e in elements if e.kind == "steps"]
    step_ids = {e.model.id for e in steps}
    questions = [e for e in elements if e.kind == "questions"]
    all_q = frozenset(e.model.id for e in questions)
    all_items = frozenset(e.model.id for e in elements if e.kind == "items")

    def err(e: Element, sub: tuple[Any, ...], message: str) -> None:
        if e.source is src:
            src.error(e.path + sub, message)
        else:
            # An inherited element broken by this layer (e.g. a removed question it refers to):
            # point at this layer's removes/overrides, the only way it can break one.
            where = ("removes",) if fm.removes else ("overrides",) if fm.overrides else ()
            src.error(where, f"{_describe(e)} (inherited from {e.layer}): {message}")

    infos = {e.model.id: _question_info(e, err) for e in questions}

    def compile_(e: Element, field_name: str, raw: Any, allow_level: bool, qs: dict[str, Any],
                 allow_items: bool = False) -> Cond | None:
        if raw is None:
            return None
        ctx = CompileContext(qs, level_rank, allow_level, f"{field_name} of {_describe(e)}", all_q,
                             allow_items, all_items)
        cond = compile_condition(raw, ctx, ())
        for path, message in ctx.errors:
            err(e, (field_name,) + path, message)
        return cond

    r_levels = tuple(_level(e, err) for e in levels)
    r_questions = []
    earlier: dict[str, QInfo] = {}
    for e in questions:
        q = e.model
        if q.step not in step_ids:
            err(e, ("step",), f"unknown step {q.step!r} (steps: {', '.join(sorted(step_ids))})")
        applies = compile_(e, "applies_when", q.applies_when, False, earlier)
        earlier[q.id] = infos[q.id]
        kind = q.kind or "choice"
        r_questions.append(p.Question(
            q.id, _t(q.text), _t(q.help), q.step,
            tuple(p.Option(o.value, _t(o.label), _t(o.help), o.points) for o in q.options),
            q.required, q.applies_when, q.provenance, _src_dict(q.source), e.layer, e.override, applies,
            kind=kind, multiple=bool(q.multiple),
            max_length=(q.max_length or m.TEXT_MAX_LENGTH_DEFAULT) if kind == "text" else None,
            declared=_declared(q, ("kind", "multiple", "max_length")),
        ))
    r_rules = []
    for e in (x for x in elements if x.kind == "rules"):
        r = e.model
        if r.level not in level_rank:
            err(e, ("level",), f"unknown level {r.level!r} (levels: {', '.join(level_rank)})")
        cond = compile_(e, "when", r.when, False, infos)
        r_rules.append(p.Rule(r.id, r.level, r.when, r.stop, _t(r.message), r.provenance,
                              _src_dict(r.source), e.layer, e.override, cond))
    r_blocking = []
    for e in (x for x in elements if x.kind == "blocking"):
        b = e.model
        cond = compile_(e, "when", b.when, True, infos)
        r_blocking.append(p.BlockingFinding(b.id, b.when, _t(b.message), b.provenance,
                                            _src_dict(b.source), e.layer, e.override, cond))
    r_flags = []
    for e in (x for x in elements if x.kind == "flags"):
        f = e.model
        cond = compile_(e, "when", f.when, True, infos)
        r_flags.append(p.Flag(f.id, _t(f.label), f.when, _t(f.message), f.provenance,
                              _src_dict(f.source), e.layer, e.override, cond))
    r_consistency = []
    for e in (x for x in elements if x.kind == "consistency"):
        c = e.model
        cond = compile_(e, "when", c.when, True, infos, allow_items=True)
        r_consistency.append(p.ConsistencyRule(c.id, c.when, _t(c.message), c.provenance,
                                               _src_dict(c.source), e.layer, e.override, cond))
    r_steps = []
    for e in steps:
        cond = compile_(e, "applies_when", e.model.applies_when, True, infos)
        r_steps.append(_step(e, cond, err))
    r_checklists = []
    for e in (x for x in elements if x.kind == "checklists"):
        c = e.model
        if c.step is not None and c.step not in step_ids:
            err(e, ("step",), f"unknown step {c.step!r} (steps: {', '.join(sorted(step_ids))})")
        items = []
        for ie in (x for x in elements if x.kind == "items" and x.checklist == c.id):
            it = ie.model
            if it.required_when is None and it.recommended_when is None:
                err(ie, (), "an item needs required_when or recommended_when (or both)")
            rq = compile_(ie, "required_when", it.required_when, True, infos)
            rc = compile_(ie, "recommended_when", it.recommended_when, True, infos)
            items.append(p.Item(it.id, c.id, _t(it.text), _t(it.help), it.category, it.required_when,
                                it.recommended_when, it.provenance, _src_dict(it.source), ie.layer,
                                ie.override, rq, rc,
                                evidence_required=it.evidence_required is not False,
                                declared=_declared(it, ("evidence_required",))))
        r_checklists.append(p.Checklist(c.id, _t(c.title), c.step or "", tuple(items), e.layer, e.override))
    if src.errors:
        return None  # type: ignore[return-value]
    extends = None
    if parent is not None and fm.extends is not None:
        extends = {"id": fm.extends.id, "version": fm.extends.version, "resolved": parent.key}
    return p.ResolvedPack(
        id=fm.id, version=fm.version, title=_t(fm.title), description=_t(fm.description),
        edition=fm.edition, effective_from=fm.effective_from, publisher=_t(fm.publisher),
        source=_src_dict(fm.source), extends=extends, license=fm.license,
        default_level=default_level or "", levels=r_levels, questions=tuple(r_questions),
        rules=tuple(r_rules), blocking=tuple(r_blocking), checklists=tuple(r_checklists),
        steps=tuple(r_steps), layers=(parent.layers if parent is not None else ()) + (layer,),
        path=src.file.parent, elements=tuple(elements), flags=tuple(r_flags),
        consistency=tuple(r_consistency), languages=languages, languages_declared=languages_declared,
        parent_ref=(f"{parent.key}#{parent.fingerprint}" if parent is not None else None),
        parent_locked=parent is not None and src.lock is not None,
    )


def _question_info(e: Element, err: Callable[[Element, tuple[Any, ...], str], None]) -> QInfo:
    """Check a question's kind-specific keys; what conditions need to know of it."""
    q = e.model
    kind = q.kind or "choice"
    if kind == "text":
        if q.options:
            err(e, ("options",), "a free-text question (kind: text) has no options")
        if q.multiple:
            err(e, ("multiple",), "a free-text question (kind: text) cannot be multiple")
        return QInfo(text=True)
    if not q.options:
        err(e, (), "missing key 'options' (a choice question needs at least one option; "
                   "for a free-text question write kind: text)")
    if q.max_length is not None:
        err(e, ("max_length",), "max_length is for free-text questions (kind: text) only")
    values: set[str] = set()
    for j, o in enumerate(q.options):
        if o.value in values:
            continue  # reported by the duplicate check
        values.add(o.value)
        if q.multiple and o.points is not None and o.points < 0:
            err(e, ("options", j, "points"),
                f"points of a multiple-choice question must not be negative; got {o.points}")
    return QInfo(
        options=tuple(o.value for o in q.options), multiple=bool(q.multiple),
        points={o.value: o.points for o in q.options if o.points is not None},
    )


def _level(e: Element, err: Callable[[Element, tuple[Any, ...], str], None]) -> p.Level:
    lv = e.model
    values: dict[str, Any] = {}
    from_legacy: list[str] = []
    for key in ("tone", "high_risk", "out_of_scope"):
        values[key], was_legacy = legacy.level_value(lv.id, key, getattr(lv, key))
        if was_legacy:
            from_legacy.append(key)
    if values["high_risk"] and values["out_of_scope"]:
        err(e, (), "a level cannot be both high_risk and out_of_scope")
    return p.Level(lv.id, _t(lv.label), _t(lv.help), lv.provenance, _src_dict(lv.source), e.layer,
                   e.override, tone=values["tone"], high_risk=values["high_risk"],
                   out_of_scope=values["out_of_scope"], next_steps=_t(lv.next_steps),
                   declared=_declared(lv, ("tone", "high_risk", "out_of_scope", "next_steps")),
                   legacy=tuple(from_legacy))


def _step(e: Element, cond: Cond | None, err: Callable[[Element, tuple[Any, ...], str], None]) -> p.Step:
    s = e.model
    defaults = legacy.step_defaults(s.id, s.kind)
    kind = s.kind or defaults.get("kind")
    body = _t(s.body) if s.body is not None else defaults.get("body")
    from_legacy = tuple(k for k in ("kind", "body") if k in defaults and getattr(s, k) is None)
    if kind in ("report", "consultation") and body is None:
        err(e, (), f"missing key 'body' (a {kind} step names the body reported to or consulted)")
    if kind is None and s.body is not None:
        err(e, ("body",), "body is for report and consultation steps (add kind: report or consultation)")
    return p.Step(s.id, _t(s.title), _t(s.help), s.applies_when, s.provenance, _src_dict(s.source),
                  e.layer, e.override, cond, kind=kind, body=body,
                  declared=_declared(s, ("kind", "body")), legacy=from_legacy)


def _describe(e: Element) -> str:
    name = {"levels": "level", "questions": "question", "rules": "rule", "blocking": "blocking finding",
            "flags": "flag", "consistency": "consistency rule",
            "steps": "step", "items": "item", "checklists": "checklist"}[e.kind]
    return f"{name} {e.model.id}"


def find_parent(src: PackSource, candidates: Iterable[tuple[str, Version, Any]]) -> Any | None:
    """The parent candidate (id, version, obj) for the source: exactly the locked version when
    the source is locked, else the newest matching its `extends`; None when there is none."""
    assert src.model is not None and src.model.extends is not None
    if src.lock is not None:
        want_id, want_ver = src.lock.pack_id, src.lock.version_tuple
        for cid, ver, obj in candidates:
            if cid == want_id and ver == want_ver:
                return obj
        return None
    want = parse_range(src.model.extends.version)
    best = None
    for cid, ver, obj in candidates:
        if cid == src.model.extends.id and want(ver) and (best is None or ver > best[0]):
            best = (ver, obj)
    return best[1] if best else None


def missing_parent_message(src: PackSource) -> str:
    """The error for a parent that is not loaded (locked or not)."""
    assert src.model is not None and src.model.extends is not None
    ext = src.model.extends
    if src.lock is not None:
        return (f"missing parent: {src.key} is locked to {src.lock.short_ref}, which is not loaded "
                f"(extends {ext.id!r} {ext.version!r})")
    return f"missing parent: no pack {ext.id!r} with a version in {ext.version!r} is loaded"


def report_missing_parent(src: PackSource) -> None:
    if src.lock is not None:
        src.lock_error(missing_parent_message(src))
    else:
        src.error(("extends",), missing_parent_message(src))


def load_pack_dir(path: str | os.PathLike[str], parents: Any = None, *,
                  lock: str | ParentLock | bool | None = None) -> p.ResolvedPack:
    """Load one pack folder (or its pack.yaml), resolving `extends` against `parents` (a
    PackRegistry, or None). Raises PackLoadError listing every problem found.

    `lock`: None uses the folder's pack.lock when there is one; a ref `id@x.y.z#fingerprint`
    (e.g. a `parent_ref` recorded when a bundle was installed) resolves to exactly that parent;
    False ignores any pack.lock and takes the newest parent matching `extends`."""
    src = read_pack_source(path, lock=lock)
    if src.errors:
        raise PackLoadError(src.errors)
    assert src.model is not None
    parent = None
    if src.model.extends is not None:
        try:
            parse_range(src.model.extends.version)
        except ValueError as exc:
            src.error(("extends", "version"), str(exc))
            raise PackLoadError(src.errors) from None
        candidates = [(pk.id, pk.version_tuple, pk) for pk in (parents or ())]
        parent = find_parent(src, candidates)
        if parent is None:
            report_missing_parent(src)
            raise PackLoadError(src.errors)
    return resolve_source(src, parent)
