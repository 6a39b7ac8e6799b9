"""Command line: ``curvelint curves|check|rules|rule|watch|verify``.

One module per sub-command (``curves``, ``check`` with ``rules`` and ``rule``, ``watch``,
``verify``), each registering its parser and its ``cmd_*`` function; ``common`` holds what they
share. Only argparse is imported here and by the sub-command modules at import time, so
``curvelint --help`` stays fast; each command imports numpy, pandas and the engine when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import OptionsError, SetupError
from .check import add_check_parsers
from .common import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, UsageError
from .curves import add_curves_parser
from .verify import add_verify_parser
from .watch import add_watch_parser

__all__ = ["UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="curvelint",
        description="Static analysis of deep-learning training logs: finds plateaus, oscillation, "
        "overfitting and divergence in loss curves and says what to change.",
    )
    parser.add_argument("--version", action="version", version=f"curvelint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_curves_parser(sub)
    add_check_parsers(sub)
    add_watch_parser(sub)
    add_verify_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except (UsageError, OptionsError, SetupError) as e:
        print(f"curvelint: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `curvelint ... | head`
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
