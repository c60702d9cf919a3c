"""The ``ovninspect`` command line: thin wiring of commands (see ovninspect/commands/)."""

from __future__ import annotations

import gc

import typer

from .commands.check import check
from .commands.failover import failover_sim
from .commands.gateways import gateways
from .commands.info import info
from .commands.nat import nat
from .commands.snapshot import snapshot

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
app.command("nat")(nat)
app.command("gateways")(gateways)
app.command("failover-sim")(failover_sim)
app.command("check")(check)
app.command("info")(info)
app.command("snapshot")(snapshot)


def main() -> None:
    # A short-lived process holding one large acyclic tree of parsed JSON: the cyclic
    # garbage collector would only re-scan it again and again (design.md, Performance).
    gc.disable()
    app()
