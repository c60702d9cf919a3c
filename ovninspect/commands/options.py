"""Options declared without typer, and a plain command line read without click.

A command's options are :class:`Option` defaults in its signature; ``cli_typer`` turns each
into the ``typer.Option`` it describes.  :func:`parse_plain` reads the simplest command
lines of a command whose options all are ``Option`` (``--name value``, ``-n value``,
``--flag``) to the keyword arguments click would pass, so that such a line runs without
importing typer (start-up time, issue #16); any other line (help, a mistake, ``--x=v``, a
repeated option, an unknown type...) gets None and goes through click, which says what
is wrong exactly as before.
"""

from __future__ import annotations

import inspect
import os
from typing import Any, Callable, Optional

# the annotations parse_plain converts as click does: str as is, float(), a flag
_TEXT = (str, Optional[str])


class Option:
    """One option: its default, its names, and the rest of ``typer.Option``'s keyword
    arguments (``envvar``, ``metavar``, ``help``...)."""

    __slots__ = ("default", "names", "settings")

    def __init__(self, default: Any, *names: str, **settings: Any) -> None:
        self.default = default
        self.names = names
        self.settings = settings


def parse_plain(func: Callable[..., Any], args: list[str]) -> Optional[dict[str, Any]]:
    """The keyword arguments click would call ``func`` with for ``args`` (the words after
    the command name), or None when the line is not one this reads the same as click."""
    if os.environ.get("_OVNINSPECT_COMPLETE"):  # click's shell completion request
        return None
    params = inspect.signature(func).parameters.values()
    by_name: dict[str, inspect.Parameter] = {}
    for param in params:
        opt = param.default
        if not isinstance(opt, Option) or not (param.annotation in _TEXT or
                                               param.annotation in (float, bool)):
            return None
        by_name.update(dict.fromkeys(opt.names, param))
    given: dict[str, Any] = {}
    words = iter(args)
    for word in words:
        param = by_name.get(word)
        if param is None or param.name in given:
            return None
        if param.annotation is bool:
            given[param.name] = True
            continue
        value = next(words, "")
        if not value or value.startswith("-"):
            return None
        given[param.name] = value
    kwargs = {}
    for param in params:
        value = given.get(param.name)
        if value is None:
            envvar = param.default.settings.get("envvar")
            value = (envvar and os.environ.get(envvar)) or param.default.default
        if param.annotation is float and value is not None:
            try:
                value = float(value)
            except ValueError:
                return None
        kwargs[param.name] = value
    return kwargs
