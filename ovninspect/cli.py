"""The ``ovninspect`` command line: thin wiring of commands (see ovninspect/commands/).

:func:`run` runs one command line in-process and returns its exit code (tests, a
long-running caller); :func:`main` is the console entry point of a one-shot process, which
pauses the garbage collector and leaves without tearing its data down.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import Optional, Sequence

import typer

from . import __version__
from .commands import check, diff, failover, gateways, info, nat, snapshot, timeline
from .commands.common import INTERNAL_ERROR, internal_error, stdout_closed
from .commands.factory import question
from .errors import escape, input_being_read

app = typer.Typer(
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


question(app, "nat")(nat.nat)
question(app, "gateways")(gateways.gateways)
question(app, "failover-sim")(failover.failover_sim)
question(app, "check")(check.check)
question(app, "info", on_snapshot=True, tables=info.INFO_TABLES, always_verify=True)(info.info)
app.command("diff")(diff.diff)
app.command("timeline")(timeline.timeline)
app.command("snapshot")(snapshot.snapshot)


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
        stdout_closed()
    except Exception as exc:  # outside a command (handle_errors has the others)
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
        stdout_closed()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)
