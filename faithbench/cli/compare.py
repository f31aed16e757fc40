"""`faithbench compare` (paired tests between runs) and `faithbench gate` (the CI verdict)."""

from __future__ import annotations

import argparse
from pathlib import Path

from faithbench.cli.options import Subparsers, add_metrics, out_path, write_output


def add_commands(subparsers: Subparsers) -> None:
    """`compare` and `gate`."""
    cmp = subparsers.add_parser(
        "compare",
        help="paired significance tests between runs on the same items",
        description="Compare runs pairwise (B - A for every pair, in the order given) on every metric, "
        "and on process_error: the share of samples where a rule metric flags a step (lower is better; "
        "the mean first flagged step is printed under the table).",
    )
    cmp.add_argument(
        "runs", nargs="+", type=Path, help="two or more run directories of the same task and data"
    )
    add_metrics(
        cmp,
        help="comma-separated metrics, process_error among them if wanted (default: all metrics the runs "
        "share, and process_error when they scored a rule metric)",
    )
    cmp.add_argument(
        "--correction", choices=("holm", "bh"), default="holm", help="p-value adjustment (default holm)"
    )
    cmp.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    cmp.add_argument("--json", type=out_path, help="write the comparisons as JSON here")
    cmp.add_argument("--report", type=out_path, help="write a self-contained HTML report here")
    cmp.add_argument(
        "--markdown", type=Path, help="write a Markdown report (for a pull-request comment) here"
    )
    cmp.set_defaults(func=_compare)

    gt = subparsers.add_parser(
        "gate",
        help="exit 1 if a candidate run is significantly worse than its baseline",
        description="CI gate. Exit 0: no gated metric significantly worse beyond the margin; 1: one is; "
        "2: usage or data error. Prints a Markdown verdict.",
    )
    gt.add_argument("--baseline", type=Path, required=True, help="baseline run directory")
    gt.add_argument("--candidate", type=Path, required=True, help="candidate run directory")
    gt.add_argument(
        "--metric", action="append", dest="metrics", help="metric to gate on (repeatable; default accuracy)"
    )
    gt.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    gt.add_argument(
        "--margin",
        type=float,
        default=0.0,
        help="tolerated worsening of the metric's mean: a drop, or a rise for process_error (default 0)",
    )
    gt.add_argument(
        "--correction", choices=("holm", "bh"), default="holm", help="across gated metrics (default holm)"
    )
    gt.set_defaults(func=_gate)


def _compare(args: argparse.Namespace) -> int:
    from faithbench.compare.compare import compare_loaded, load_runs
    from faithbench.reports.table import comparison_table

    runs = load_runs(args.runs)  # read once: the comparison and the HTML report share them
    report = compare_loaded(runs, metrics=args.metrics, correction=args.correction, alpha=args.alpha)
    print(comparison_table(report))
    if args.json:
        write_output(args.json, report.model_dump_json(indent=2) + "\n")
    if args.markdown:
        from faithbench.reports import comparison_markdown

        write_output(args.markdown, comparison_markdown(report))
    if args.report:
        from faithbench.reports import comparison_html

        write_output(args.report, comparison_html(report, {run.ref.label: run for run in runs}))
    return 0


def _gate(args: argparse.Namespace) -> int:
    from faithbench.compare import gate
    from faithbench.reports.gate import verdict_markdown

    verdict = gate(
        args.baseline, args.candidate, metrics=args.metrics or ["accuracy"], alpha=args.alpha,
        margin=args.margin, correction=args.correction,
    )  # fmt: skip
    print(verdict_markdown(verdict))
    return verdict.exit_code
