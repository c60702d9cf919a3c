"""The ``ovninspect`` command line: thin wiring of commands (see ovninspect/commands/)."""

from __future__ import annotations

import contextlib
import gc
import os
import sys

import typer

from . import __version__
from .commands.check import check
from .commands.common import INTERNAL_ERROR, internal_error, stdout_closed
from .commands.failover import failover_sim
from .commands.gateways import gateways
from .commands.info import info
from .commands.nat import nat
from .commands.snapshot import snapshot
from .errors import escape, input_being_read

app = typer.Typer(
    name="ovninspect",
    help="Tell what OVN really does with your external IPs, from an NB snapshot file or a "
         "live NB: which NATs are distributed, centralized or inactive, which chassis handles "
         "them, what survives when gateways die, and what is misconfigured.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
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


app.command("nat")(nat)
app.command("gateways")(gateways)
app.command("failover-sim")(failover_sim)
app.command("check")(check)
app.command("info")(info)
app.command("snapshot")(snapshot)


def _argv(args: list[str]) -> list[str]:
    """``--sweep=N`` as ``--sweep N`` (the flag takes an optional count, which click cannot
    attach with '=')."""
    out = []
    for arg in args:
        if arg.startswith("--sweep="):
            out.extend(arg.split("=", 1))
        else:
            out.append(arg)
    return out


def main() -> None:
    # A short-lived process holding one large acyclic tree of parsed JSON: the cyclic
    # garbage collector would only re-scan it again and again (design.md, Performance),
    # and freeing it object by object at exit only costs time: flush and leave.
    gc.disable()
    code: object = 0
    try:
        app(args=_argv(sys.argv[1:]), prog_name="ovninspect")
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
        code = 0
    elif not isinstance(code, int):
        print(escape(str(code)), file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        stdout_closed()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)
