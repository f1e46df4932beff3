"""A strict, safe YAML reader for rule packs that keeps line numbers.

Built on PyYAML's event parser (the safe scanner and parser; no constructor that could run code):
it builds plain Python values itself so it can reject duplicate keys, unknown tags and merge keys,
record the line of every value, and refuse hostile input early: a size limit per file, a nesting
depth limit, and an alias limit that counts the expanded size (a "billion laughs" file is refused
after a few events, not after exhausting memory). Booleans are YAML 1.2 style: only true/false, so
option values such as `yes` and `no` stay strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 40
MAX_ALIASES = 1000
MAX_NODES = 200_000

Path = tuple[Any, ...]


@dataclass
class YamlError(Exception):
    """A file that is not acceptable YAML; `line` is 1-based (0 when unknown)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class _Resolver(Resolver):
    """YAML 1.2-style implicit types: `yes`/`no`/`on`/`off` are strings, not booleans."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

_SAFE_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}


_STR = "tag:yaml.org,2002:str"


class _Constructor(SafeConstructor):
    pass


# libyaml's C parser when present (about 10x faster); both give the same events and marks.
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = _Resolver()
_CONSTRUCTOR = _Constructor()


def _scalar(event: yaml.ScalarEvent) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = _RESOLVER.resolve(ScalarNode, event.value, event.implicit)
    if tag == _STR:
        return event.value  # the common case, without building a node
    if tag == "tag:yaml.org,2002:merge":
        raise YamlError(event.start_mark.line + 1, "merge keys (<<) are not allowed")
    if tag not in _SAFE_TAGS:
        raise YamlError(event.start_mark.line + 1, f"tag {tag!r} is not allowed")
    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError) as exc:
        raise YamlError(event.start_mark.line + 1, f"bad value {event.value!r}: {exc}") from None


def read_yaml(text: str | bytes, *, max_bytes: int = MAX_BYTES) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document; return the value and a map element path -> 1-based line."""
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > max_bytes:
        raise YamlError(0, f"file is {size} bytes; the limit is {max_bytes} bytes")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlError(0, f"not UTF-8 text ({exc})") from None
    lines: dict[Path, int] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    # Each frame: [container, path, pending_key (maps), key_line, anchor, start_nodes]
    stack: list[list[Any]] = []
    root: Any = None
    have_root = False
    nodes = 0
    aliases = 0
    documents = 0

    def child_path(frame: list[Any]) -> Path:
        container, path = frame[0], cast(Path, frame[1])
        if isinstance(container, list):
            return path + (len(container),)
        return path + (frame[2],)

    def place(value: Any, line: int, anchor: str | None, weight: int) -> None:
        nonlocal root, have_root
        if anchor:
            anchors[anchor] = (value, weight)
        if not stack:
            root, have_root = value, True
            lines.setdefault((), line)
            return
        frame = stack[-1]
        container = frame[0]
        if isinstance(container, list):
            lines[frame[1] + (len(container),)] = line
            container.append(value)
        elif frame[2] is _NO_KEY:
            if not isinstance(value, (str, int, float, bool)) and value is not None:
                raise YamlError(line, "a mapping key must be a plain value")
            if value in container:
                raise YamlError(line, f"duplicate key {value!r} in {_render(frame[1])}")
            if value == "<<":
                raise YamlError(line, "merge keys (<<) are not allowed")
            frame[2], frame[3] = value, line
        else:
            key = frame[2]
            lines[frame[1] + (key,)] = frame[3]
            container[key] = value
            frame[2] = _NO_KEY

    try:
        for event in yaml.parse(text, Loader=_PARSER):
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise YamlError(line, "only one YAML document per file")
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                place(_scalar(event), line, event.anchor, 1)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in (None, "!") and event.tag not in _SAFE_TAGS:
                    raise YamlError(line, f"tag {event.tag!r} is not allowed")
                nodes += 1
                if len(stack) >= MAX_DEPTH:
                    raise YamlError(line, f"nesting deeper than {MAX_DEPTH} levels")
                is_map = isinstance(event, yaml.MappingStartEvent)
                path = child_path(stack[-1]) if stack else ()
                if stack and not isinstance(stack[-1][0], list) and stack[-1][2] is _NO_KEY:
                    raise YamlError(line, "a mapping key must be a plain value")
                stack.append([{} if is_map else [], path, _NO_KEY, line, event.anchor, nodes, line])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                place(frame[0], frame[6], frame[4], nodes - frame[5] + 1)
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise YamlError(line, f"more than {MAX_ALIASES} aliases")
                if event.anchor not in anchors:
                    raise YamlError(line, f"unknown alias *{event.anchor}")
                value, weight = anchors[event.anchor]
                # An alias stands for a full copy of its anchor: count it as such so that
                # nested aliases cannot expand beyond the limit.
                nodes += weight
                place(value, line, None, weight)
            if nodes > MAX_NODES:
                raise YamlError(line, f"more than {MAX_NODES} values (after expanding aliases)")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise YamlError(mark.line + 1 if mark else 0, f"YAML syntax error: {msg}") from None
    except yaml.YAMLError as exc:
        raise YamlError(0, f"YAML error: {exc}") from None
    except RecursionError:
        raise YamlError(0, "YAML too deeply nested") from None
    if not have_root:
        raise YamlError(1, "the file is empty")
    return root, lines


class _NoKey:
    def __repr__(self) -> str:
        return "<no key>"


_NO_KEY = _NoKey()


def _render(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the document"
