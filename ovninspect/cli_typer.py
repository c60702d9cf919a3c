"""The typer application behind the ``ovninspect`` command line: help, usage errors, and
every command line that :func:`cli.run` does not run directly (see commands/options.py)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator, Mapping
from typing import Any, Callable

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info

from . import __version__
from .cli import COMMANDS, command_function
from .commands.options import Option


def _with_typer_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with each :class:`Option` default of its signature as the typer.Option
    it describes."""
    sig = inspect.signature(func)

    @functools.wraps(func)
    def command(**kwargs: Any) -> Any:
        return func(**kwargs)

    command.__signature__ = sig.replace(parameters=[  # type: ignore[attr-defined]
        p.replace(default=typer.Option(p.default.default, *p.default.names,
                                       **p.default.settings))
        if isinstance(p.default, Option) else p
        for p in sig.parameters.values()])
    return command


def _build(name: str) -> Any:
    """Import command ``name`` and build its click command."""
    sub = typer.Typer()
    sub.command(name)(_with_typer_options(command_function(name)))
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
