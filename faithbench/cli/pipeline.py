"""`faithbench pipeline run RECIPE`: data -> filter -> SFT -> GRPO -> eval of every stage -> compare ->
leaderboard -> report and gate verdict, each stage skipped when complete and resumed when killed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from faithbench.cli.options import Subparsers, add_quiet, usage, write_output


def add_commands(subparsers: Subparsers) -> None:
    """`pipeline run`."""
    pipe = subparsers.add_parser(
        "pipeline",
        help="the whole train-and-judge chain from one recipe (configs/pipeline/*.yaml)",
        description="Run a pipeline recipe: distil or take references, filter them with the metrics, "
        "LoRA-SFT, GRPO from the SFT adapter, evaluate every stage on the same items, compare them with "
        "paired tests, rank them, audit for reward hacking, and write OUT/report.html, OUT/report.md and "
        "OUT/pipeline.json. Rerunning skips finished stages and resumes a killed one.",
    )
    verbs = pipe.add_subparsers(title="actions", metavar="ACTION")
    run = verbs.add_parser("run", help="run (or resume) a pipeline recipe", description=pipe.description)
    run.add_argument("recipe", type=Path, help="pipeline recipe YAML (configs/pipeline/*.yaml)")
    run.add_argument("--out", type=Path, help="output folder (default runs/pipeline/<recipe name>)")
    run.add_argument(
        "--fail-on-gate",
        action="store_true",
        help="exit 1 when the gate fails (the final model is not shown better, or is worse); default: exit 0",
    )
    add_quiet(run)
    run.set_defaults(func=_run)
    pipe.set_defaults(func=lambda args: usage(pipe))


def _run(args: argparse.Namespace) -> int:
    from faithbench.pipeline import loaded_runs, run_pipeline
    from faithbench.reports.pipeline import gate_line, pipeline_html, pipeline_markdown
    from faithbench.reports.table import comparison_table

    def tell(line: str) -> None:
        print(f"pipeline: {line}", file=sys.stderr, flush=True)

    result = run_pipeline(args.recipe, args.out, progress=not args.quiet, on_stage=tell)
    out = Path(result.out)
    write_output(out / "report.md", pipeline_markdown(result))
    write_output(out / "report.html", pipeline_html(result, loaded_runs(result)))
    print(comparison_table(result.comparison))
    for flag in result.audit.flags:
        print(f"audit: {flag}")
    print(gate_line(result.gate))
    print(f"report: {(out / 'report.html').resolve()}")
    return 1 if args.fail_on_gate and not result.gate.passed else 0
