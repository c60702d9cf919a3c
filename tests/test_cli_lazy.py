"""The command line imports only the command that runs (start-up time, issue #16), and its
static command list says what each command's own help says."""

from __future__ import annotations

import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ovninspect.cli import COMMANDS, command_function
from ovninspect.commands.options import parse_plain

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = "fixtures/kubeovn-5050/nb.db"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_summary_is_the_first_paragraph_of_the_help(name):
    module, func, _, summary = COMMANDS[name]
    doc = inspect.getdoc(getattr(importlib.import_module(f"ovninspect.commands.{module}"),
                                 func))
    assert summary == " ".join(doc.split("\n\n")[0].split())


def _loaded(*args: str) -> set[str]:
    """The ovninspect.commands modules and heavy libraries imported by one command line."""
    code = ("import sys\nfrom ovninspect.cli import run\nrun(sys.argv[1:])\n"
            "print(' '.join(m for m in sys.modules if m.startswith('ovninspect.commands.') "
            "or m in ('pydantic', 'rich', 'netaddr', 'yaml', 'ovsdbapp', 'typer')), "
            "file=sys.stderr)")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=env)
    loaded = set(proc.stderr.split("\n")[-2].split())
    if _typer_version() >= (0, 29):  # builds and parses options with pydantic (pyproject: <0.29)
        loaded.discard("pydantic")
    return loaded


def _typer_version() -> tuple[int, ...]:
    import typer

    return tuple(int(p) for p in typer.__version__.split(".")[:2])


def test_help_imports_no_command():
    assert _loaded("--help") == {"ovninspect.commands.options", "typer"}


def test_a_command_imports_only_itself():
    assert _loaded("nat", "--db", FIXTURE, "--format", "json") == {
        "ovninspect.commands.nat", "ovninspect.commands.common", "ovninspect.commands.factory",
        "ovninspect.commands.options"}
    assert _loaded("diff", "--help") == {"ovninspect.commands.diff",
                                         "ovninspect.commands.common",
                                         "ovninspect.commands.options", "typer"}


def test_a_plain_command_line_runs_without_typer():
    assert "typer" not in _loaded("nat", "--db", FIXTURE, "-r", "vpc1", "--wide")
    assert "typer" not in _loaded("gateways", "--db", FIXTURE, "--format", "csv")
    assert "typer" in _loaded("nat", "--db", FIXTURE, "--format=json")  # click's job


def _click_kwargs(name: str, args: list[str]) -> dict:
    """The keyword arguments click calls command ``name`` with for ``args``."""
    import typer
    from typer.testing import CliRunner

    from ovninspect.cli_typer import _with_typer_options

    seen: dict = {}

    def record(**kwargs):
        seen.update(kwargs)

    record.__signature__ = inspect.signature(command_function(name))
    app = typer.Typer()
    app.command(name)(_with_typer_options(record))
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return seen


@pytest.mark.parametrize("env", [{}, {"OVN_NB_DB": "nb.db"}, {"OVN_NB_DB": ""}])
@pytest.mark.parametrize("name, args", [
    ("nat", []),
    ("nat", ["--db", "x.db"]),
    ("nat", ["-r", "vpc1", "--db", "x", "-f", "json", "--wide", "--mode", "inactive",
             "--timeout", "1e1"]),
    ("nat", ["--sb", "s", "--against", "o", "--against-sb", "os", "--fail-on-change",
             "--ovn-version", "24.03", "-p", "k", "-c", "c", "-C", "ca", "--verify",
             "--allow-truncated", "--k8s", "k8s.yaml", "-m", "distributed", "-w"]),
    ("gateways", ["--db", "unix:/run/ovn/nb.sock", "--router", "r", "--timeout", " 3 "]),
    ("info", ["--db", "x", "--sb-role"]),
])
def test_a_plain_command_line_reads_as_click_reads_it(name, args, env, monkeypatch):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if not env:
        monkeypatch.delenv("OVN_NB_DB", raising=False)
    monkeypatch.delenv("OVN_SB_DB", raising=False)
    assert parse_plain(command_function(name), args) == _click_kwargs(name, args)


@pytest.mark.parametrize("args", [
    ["--db=x"], ["--db"], ["--db", "x", "--db", "y"], ["--help"], ["-h"], ["-wf", "json"],
    ["--timeout", "soon"], ["--db", "-"], ["--db", ""], ["--wide=1"], ["--", "--db", "x"],
    ["--bogus"], ["x.db"],
])
def test_any_other_command_line_is_left_to_click(args):
    assert parse_plain(command_function("nat"), args) is None
