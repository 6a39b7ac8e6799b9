"""Errors shared by the front ends (CLI, Python API, Monitor, callbacks); imports nothing heavy,
so the command line can catch them without loading numpy."""

from __future__ import annotations


class OptionsError(ValueError, KeyError):
    """Bad options: an unknown rule code or prefix in ``select``/``ignore``, an unknown rule in
    ``rule_options``, an option the rule does not have, or a value of the wrong type.

    Raised by :meth:`analyzer.engine.Options.build`, which every front end goes through. It is a
    ``ValueError``; it is also a ``KeyError`` because unknown rule codes raised ``KeyError`` before
    and callers may catch that. ``field`` says which argument was wrong: ``"select"``,
    ``"ignore"`` or ``"rule_options"``.
    """

    __str__ = Exception.__str__  # not KeyError's repr() of the message

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SetupError(Exception):
    """Something outside curvelint stands in the way of a check: an optional package that is not
    installed, a remote log folder that cannot be listed, a Dask scheduler that cannot be
    reached. The message is one line that names the thing and the fix; the command line prints
    it and exits 2."""


class RemoteError(SetupError):
    """A remote log folder (``s3://``, ``gs://``, ``memory://``, ...) cannot be read:
    :mod:`analyzer.remote`."""


class SchedulerError(SetupError):
    """``--scheduler`` cannot be used: Dask is not installed, the scheduler cannot be reached,
    or its workers run another curvelint."""
