"""The `faithbench` command: parse arguments, call the library, print, record finished runs.

The top layer: nothing under `faithbench/` outside this package imports it. One module per command
family adds its commands to the parser (`add_commands`); the options several commands share are
defined once in `faithbench.cli.options`. Building the parser imports no model or database code:
torch, transformers, TRL and SQLAlchemy load inside the command that runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from faithbench.cli import (
    compare,
    interop,
    intervene,
    judge,
    leaderboard,
    listing,
    pipeline,
    report,
    score,
    train,
)
from faithbench.cli import eval as eval_
from faithbench.errors import FaithbenchError
from faithbench.sanitize import for_terminal

__all__ = ["build_parser", "installed_version", "main"]

# in the order `faithbench --help` lists them
_COMMANDS = (eval_, score, report, compare, leaderboard, interop, train, pipeline, judge, intervene, listing)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except FaithbenchError as exc:
        print(f"faithbench: error: {for_terminal(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "faithbench: interrupted; finished samples are saved, rerun the same command to resume",
            file=sys.stderr,
        )
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faithbench", description="Measure whether language models reason faithfully on GSM8K."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")
    for command in _COMMANDS:
        command.add_commands(verbs)
    return parser


def installed_version() -> str:
    """The version of the installed faithbench distribution (pyproject.toml's, as pip recorded it)."""
    try:
        return version("faithbench")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"
