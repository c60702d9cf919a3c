"""The ``ovninspect`` command line: thin wiring of commands (see ovninspect/commands/).

:func:`run` runs one command line in-process and returns its exit code (tests, a
long-running caller); :func:`main` is the console entry point of a one-shot process, which
pauses the garbage collector and leaves without tearing its data down.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any, Optional, Sequence

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info

from . import __version__
from .errors import escape, input_being_read

# name -> (module of ovninspect.commands, its function, a question command (factory.question
# with the module's QUESTION options) or plain, and the first paragraph of its help for the
# command list).  Only the command that runs is imported (start-up time);
# tests/test_cli_lazy.py checks the summaries against the docstrings.
COMMANDS: dict[str, tuple[str, str, bool, str]] = {
    "nat": ("nat", "nat", True,
            "Classify every NAT as ovn-northd does: distributed, centralized or inactive."),
    "gateways": ("gateways", "gateways", True,
                 "List every distributed gateway port and gateway router with its gateway "
                 "chassis."),
    "failover-sim": ("failover", "failover_sim", True,
                     "Simulate chassis failures: which external IPs stay reachable, through "
                     "which chassis."),
    "check": ("check", "check", True,
              "Find misconfigurations: NATs northd drops or ignores, black-holed FIPs, EIP "
              "clashes, gateway ports without failover, self-pointing routes, address "
              "collisions."),
    "info": ("info", "info", True,
             "Show what a source is: format, schema, OVN version and rules, raft state, rows "
             "per table. Every row of every table is checked as ovsdb-server does."),
    "diff": ("diff", "diff", False,
             "What changed between two snapshots, question by question."),
    "timeline": ("timeline", "timeline", False,
                 "Replay one NB file transaction by transaction and report each change of the "
                 "answers."),
    "snapshot": ("snapshot", "snapshot", False,
                 "Save a live NB/SB (or any readable file, e.g. a clustered one) as a "
                 "standalone file."),
}


def _build(name: str) -> Any:
    """Import command ``name`` and build its click command."""
    module, func, is_question, _ = COMMANDS[name]
    mod = importlib.import_module(f"{__package__}.commands.{module}")
    sub = typer.Typer()
    if is_question:
        from .commands.factory import question

        question(sub, name, **getattr(mod, "QUESTION", {}))(getattr(mod, func))
    else:
        sub.command(name)(getattr(mod, func))
    return get_command_from_info(sub.registered_commands[0],
                                 pretty_exceptions_short=app.pretty_exceptions_short,
                                 rich_markup_mode=app.rich_markup_mode)


class _LazyCommands(Mapping):
    """The commands by name; each is imported and built on first use."""

    def __init__(self) -> None:
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in COMMANDS:
            raise KeyError(name)
        if name not in self._built:
            self._built[name] = _build(name)
        return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class _LazyGroup(TyperGroup):
    """A TyperGroup whose commands are imported only when they run; the command list in
    ``--help`` comes from COMMANDS' summaries."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands()

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        commands = self.commands
        self.commands = {name: TyperCommand(name=name, help=summary)
                         for name, (*_, summary) in COMMANDS.items()}
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.commands = commands


app = typer.Typer(
    cls=_LazyGroup,
    name="ovninspect",
    help="Tell what OVN really does with your external IPs, from an NB snapshot file or a "
         "live NB: which NATs are distributed, centralized or inactive, which chassis handles "
         "them, what survives when gateways die, what is misconfigured, and what changed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ovninspect {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", "-V", callback=_version,
                                       is_eager=True, help="Show the version and exit.")
          ) -> None:
    """Tell what OVN really does with your external IPs."""


def _argv(args: Sequence[str]) -> list[str]:
    """``--sweep=N`` as ``--sweep N`` (the flag takes an optional count, which click cannot
    attach with '=')."""
    out = []
    for arg in args:
        if arg.startswith("--sweep="):
            out.extend(arg.split("=", 1))
        else:
            out.append(arg)
    return out


def run(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command line in this process; the exit code (0 ok, 1 the command's failure
    condition, 2 usage or unreadable input, 70 a bug)."""
    code: object = 0
    try:
        app(args=_argv(sys.argv[1:] if argv is None else argv), prog_name="ovninspect")
    except SystemExit as exc:
        code = exc.code
    except BrokenPipeError:
        from .commands.common import stdout_closed

        stdout_closed()
    except Exception as exc:  # outside a command (handle_errors has the others)
        from .commands.common import INTERNAL_ERROR, internal_error

        try:
            internal_error(exc, input_being_read())
        except SystemExit as done:
            code = done.code
        except Exception:  # typer.Exit outside click's main loop
            code = INTERNAL_ERROR
    if code is None:
        return 0
    if not isinstance(code, int):
        print(escape(str(code)), file=sys.stderr)
        return 1
    return code


def main() -> None:
    # A short-lived process holding one large acyclic tree of parsed JSON: the cyclic
    # garbage collector would only re-scan it again and again (design.md, Performance),
    # and freeing it object by object at exit only costs time: flush and leave.
    gc.disable()
    code = run()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        from .commands.common import stdout_closed

        stdout_closed()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)
