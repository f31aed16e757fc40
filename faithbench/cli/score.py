"""`faithbench score`: re-score a finished run's stored completions, then record it again."""

from __future__ import annotations

import argparse
from pathlib import Path

from faithbench.cli.judge import add_judge_options, judge_stages
from faithbench.cli.options import (
    Subparsers,
    add_metrics,
    add_no_cache,
    add_quiet,
    add_register,
    print_run,
    register_finished,
)


def add_commands(subparsers: Subparsers) -> None:
    """`score`."""
    sc = subparsers.add_parser(
        "score",
        help="re-score a finished run with (other) metrics; generates nothing",
        description="Recompute metrics from a run's stored completions, in place.",
    )
    sc.add_argument("run", type=Path, help="run directory")
    add_metrics(sc)
    add_quiet(sc)
    add_register(sc)
    add_judge_options(sc)
    add_no_cache(sc)
    sc.set_defaults(func=_score)


def _score(args: argparse.Namespace) -> int:
    from faithbench.harness.runner import rescore
    from faithbench.harness.scoring import DEFAULT_METRICS

    with judge_stages(args) as stages:
        run = rescore(args.run, args.metrics or list(DEFAULT_METRICS), stages, progress=not args.quiet)
    # a finished run is recorded again so the leaderboard sees its new summary
    if not args.no_register and run.read_info().status == "finished":
        register_finished(run.path, args.db)
    print_run(run.path)
    return 0
