"""The command line describes itself: every command and option has a description, every command
an example that parses, placeholders are upper-case words, and `--version` answers. An export
whose file name disagrees with its format is refused before anything is written."""

from __future__ import annotations

import argparse
import re
import shlex

import pytest

from procurement import __version__
from procurement.cli import build_parser, main

PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_:]*$")


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command words, parser) for every command and group, depth first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*path, name))


def _leaves():
    for path, parser in _commands(build_parser()):
        if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            yield path, parser


def test_every_command_and_option_is_described_with_an_example_and_one_placeholder_style():
    problems = []
    for path, parser in _commands(build_parser()):
        name = " ".join(path) or "procurement"
        if not parser.description:
            problems.append(f"{name}: no description")
        if path and "example" not in (parser.epilog or ""):
            problems.append(f"{name}: no example")
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            label = "/".join(action.option_strings) or action.dest
            if not action.help and not isinstance(action, argparse._SubParsersAction):
                problems.append(f"{name} {label}: no help text")
            takes_value = action.nargs != 0 and not isinstance(action, argparse._SubParsersAction)
            if takes_value and action.choices is None:
                metavar = action.metavar or (action.dest.upper() if not action.option_strings
                                             else None)
                if metavar is None or not PLACEHOLDER.match(str(metavar)):
                    problems.append(f"{name} {label}: placeholder {metavar!r}")
    assert not problems, "\n".join(problems)


def test_every_example_is_a_command_the_parser_accepts():
    parser = build_parser()
    checked = 0
    for path, sub in _commands(parser):
        for line in (sub.epilog or "").splitlines()[1:]:
            words = shlex.split(line.strip().split("|")[-1], comments=True)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words.pop(0)  # VAR=value before the command
            assert words[0] == "procurement", line
            if words[-1] == "--help":
                continue
            parser.parse_args(words[1:])
            checked += 1
    assert checked > 30


def test_rules_dir_is_described_the_same_everywhere():
    helps = {a.help for _, p in _leaves() for a in p._actions if "--rules-dir" in a.option_strings}
    assert len(helps) == 1 and "shipped with procurement" in helps.pop()


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"procurement {__version__}\n"


@pytest.mark.parametrize("args, message", [
    (["--out", "x.csv"], "does not end in .xlsx; add --csv audit or --csv answers"),
    (["--out", "x.xlsx", "--csv", "audit"], "does not end in .csv; --csv audit writes a CSV"),
    (["--out", "x.txt", "--case", "1"], "does not end in .xlsx; a workbook is written as"),
])
def test_an_export_whose_file_name_disagrees_with_its_format_is_refused(tmp_path, monkeypatch,
                                                                         capsys, args, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert main(["export", *args]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # not even the database was opened


def test_a_bundle_must_be_named_zip(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert main(["packs", "bundle", "jp-national@2", "--out", str(tmp_path / "b.tar")]) == 2
    assert "a bundle is a zip file" in capsys.readouterr().err
