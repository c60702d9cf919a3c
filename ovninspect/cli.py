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
from typing import Any, Callable, Optional, Sequence

from .commands.options import parse_plain
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


def command_function(name: str) -> Callable[..., Any]:
    """Import command ``name``: the function its options are read from and that runs it."""
    module, func, is_question, _ = COMMANDS[name]
    mod = importlib.import_module(f"{__package__}.commands.{module}")
    if not is_question:
        return getattr(mod, func)
    from .commands.factory import question

    return question(**getattr(mod, "QUESTION", {}))(getattr(mod, func))


def __getattr__(name: str) -> Any:
    """``cli.app``, the typer application, imported on first use (cli_typer)."""
    if name == "app":
        from .cli_typer import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


def _run_plain(args: list[str]) -> bool:
    """Run a plain command line (commands/options.parse_plain) without typer; False when
    it is not one, for click to parse."""
    if not args or args[0] not in COMMANDS:
        return False
    func = command_function(args[0])
    kwargs = parse_plain(func, args[1:])
    if kwargs is None:
        return False
    try:
        func(**kwargs)
    except KeyboardInterrupt:
        raise SystemExit(130) from None  # as typer's main loop
    return True


def run(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command line in this process; the exit code (0 ok, 1 the command's failure
    condition, 2 usage or unreadable input, 70 a bug)."""
    code: object = 0
    args = _argv(sys.argv[1:] if argv is None else argv)
    try:
        if not _run_plain(args):
            from .cli_typer import app

            app(args=args, prog_name="ovninspect")
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
