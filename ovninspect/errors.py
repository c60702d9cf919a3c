"""Errors that the CLI turns into exit code 2 with one line naming the input."""

from __future__ import annotations


class InputError(Exception):
    """An input (file, folder or remote) that cannot be read or is not what we need.

    ``source`` names the input the way the user gave it; ``problem`` says what is wrong,
    including the record and byte offset where that applies.
    """

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class UsageError(Exception):
    """A command-line value that does not make sense (exit code 2)."""
