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

from ovninspect.cli import COMMANDS

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
            "or m in ('pydantic', 'rich', 'netaddr', 'yaml', 'ovsdbapp')), file=sys.stderr)")
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
    assert _loaded("--help") == set()


def test_a_command_imports_only_itself():
    assert _loaded("nat", "--db", FIXTURE, "--format", "json") == {
        "ovninspect.commands.nat", "ovninspect.commands.common", "ovninspect.commands.factory"}
    assert _loaded("diff", "--help") == {"ovninspect.commands.diff",
                                         "ovninspect.commands.common"}
