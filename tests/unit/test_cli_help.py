"""Every command's help reads like a command line: `Usage: ... [OPTIONS] MERCHANT`, flags without a
`<bool>` type, no `{merchant}` placeholders (the terminal polish of issue 12)."""

from __future__ import annotations

import re

import typer.main
from typer._click import exceptions as cx
from typer.testing import CliRunner

from robot.cli import app, usage_problem


def _paths(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, cmd in getattr(group, "commands", {}).items():
        out += _paths(cmd, (*prefix, name)) if hasattr(cmd, "commands") else [(*prefix, name)]
    return out


def test_every_help_page_names_arguments_and_flags_as_a_command_line_does() -> None:
    paths = _paths(typer.main.get_command(app))
    assert ("doctor",) in paths and ("merchants", "update") in paths and ("jobs", "list") in paths
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
        assert result.exit_code == 0, (path, result.output)
        text = result.output
        assert "<bool>" not in text, path
        assert not re.search(r"\{\w*\}", text), (path, text)  # no {merchant} / {id} placeholder anywhere
        usage = next(line for line in text.splitlines() if "Usage:" in line)
        assert not re.search(r"[{}]", usage), (path, usage)
    doctor = runner.invoke(app, ["doctor", "--help"], env={"COLUMNS": "100"}).output
    assert "[OPTIONS] MERCHANT" in doctor
    handoff = runner.invoke(app, ["handoff", "--help"], env={"COLUMNS": "100"}).output
    assert re.search(r"\[OPTIONS\] JOB_ID \[CODE\]", handoff)


def test_an_unknown_option_is_not_repeated_back_even_when_it_looks_like_a_name() -> None:
    """`--xInfinity` or `--cardSecret` is an option name in form only: a value typed into it (a
    password glued to a misspelt flag) must not be echoed. Click's close matches are our words."""
    for typed in ("--xInfinity", "--cardSecretpass", "--x4242424242424242"):
        said = usage_problem(cx.NoSuchOption(typed, possibilities=["--invoice"]))
        assert typed not in said and typed[3:] not in said, said
        assert said.startswith("invalid input: ") and "--invoice" in said
