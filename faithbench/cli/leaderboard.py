"""`faithbench register` and `faithbench leaderboard`: the results database from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faithbench.cli.options import Subparsers, add_db, out_path, write_output
from faithbench.errors import FaithbenchError


def add_commands(subparsers: Subparsers) -> None:
    """`register` and `leaderboard`."""
    reg = subparsers.add_parser(
        "register",
        help="record finished runs in the results database (again: refresh them)",
        description="Record finished runs (summary and identity) in the results database. "
        "Registering a run again updates its record; `faithbench eval` registers runs itself.",
    )
    reg.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="run directory")
    reg.add_argument("--label", help="name shown on the leaderboard (default: the directory name)")
    add_db(reg)
    reg.set_defaults(func=_register)

    lb = subparsers.add_parser(
        "leaderboard",
        help="rank registered runs on a metric, grouping runs the data cannot tell apart",
        description="Rank registered runs by a metric's mean. Group 1 holds the runs not significantly "
        "different from the leader (paired McNemar / sign-flip test when both run directories exist, "
        "else an unpaired z-test on the stored summaries); the best run left over leads group 2, etc.",
    )
    lb.add_argument("--task", default="gsm8k", help="task to rank (default gsm8k; 'all' for every task)")
    lb.add_argument("--metric", default="accuracy", help="metric to rank by (default accuracy)")
    lb.add_argument("--alpha", type=float, default=0.05, help="significance level for groups (default 0.05)")
    lb.add_argument(
        "--format", default="table", choices=("table", "md", "html", "json"), help="default table"
    )
    lb.add_argument("--out", type=out_path, help="write to FILE instead of standard output")
    add_db(lb)
    lb.set_defaults(func=_leaderboard)


def _register(args: argparse.Namespace) -> int:
    from faithbench.leaderboard.db import register_run, resolve_db_url, safe_url

    if args.label and len(args.runs) > 1:
        raise FaithbenchError("--label names one run; register runs one at a time to label them")
    where = safe_url(resolve_db_url(args.db))
    for path in args.runs:
        run = register_run(path, db=args.db, label=args.label)
        print(f"registered {run.label}: {run.path} ({run.task}, {run.n_samples} samples) in {where}")
    return 0


def _leaderboard(args: argparse.Namespace) -> int:
    from faithbench.leaderboard.rank import build_leaderboard
    from faithbench.reports.leaderboard import format_leaderboard

    task = None if args.task == "all" else args.task
    board = build_leaderboard(db=args.db, task=task, metric=args.metric, alpha=args.alpha)
    text = format_leaderboard(board, args.format)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    for note in board.notes:
        print(f"note: {note}", file=sys.stderr)
    write_output(args.out, text, stream=sys.stdout)  # the board is the output: say so on stdout
    return 0
