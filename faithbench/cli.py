"""The `faithbench` command. Thin: parse arguments, call the library, print."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from faithbench.errors import FaithbenchError
from faithbench.judges.cli import add_judge_commands, add_judge_options, judge_config
from faithbench.registry import Registry


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except FaithbenchError as exc:
        print(f"faithbench: error: {exc}", file=sys.stderr)
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
    verbs = parser.add_subparsers(title="commands", metavar="COMMAND")

    ev = verbs.add_parser(
        "eval",
        help="run a task through a model and score every sample",
        description="Run a task through a model into a run directory (resumable).",
    )
    ev.add_argument(
        "--model",
        default="smollm2",
        help="model spec: smollm2 | hf:PATH | predictions:FILE.jsonl, each optionally "
        "+lora:ADAPTER_DIR; vllm:PATH | vllm:smollm2 (needs vLLM); or a chat API: "
        "openai:MODEL@BASE_URL (key from $OPENAI_API_KEY) | deepseek:MODEL (key from "
        "$DEEPSEEK_API_KEY); see docs/backends.md (default: smollm2, the embedded SmolLM2-135M-Instruct)",
    )
    ev.add_argument("--task", default="gsm8k", help="task name (see `faithbench tasks list`; default gsm8k)")
    ev.add_argument(
        "--out",
        type=Path,
        help="run directory; an existing run there is resumed (default: runs/<task>-<model>-<time>)",
    )
    ev.add_argument("--limit", type=int, help="evaluate only the first N items")
    ev.add_argument("--seed", type=int, default=0, help="seed for sampled decoding (default 0)")
    ev.add_argument("--max-new-tokens", type=int, default=256, help="default 256")
    ev.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    ev.add_argument(
        "--batch-size",
        type=int,
        default=8,
        help="generation batch size; for API models, the requests handed over at a time (default 8)",
    )
    ev.add_argument(
        "--tensor-parallel-size",
        type=int,
        default=1,
        help="vllm: models only: split the model across this many GPUs (default 1)",
    )
    ev.add_argument("--num-fewshot", type=int, help="exemplars for gsm8k-fewshot (default 5)")
    ev.add_argument(
        "--metrics", type=comma_list, help="comma-separated metric names (default: all rule metrics)"
    )
    ev.add_argument(
        "--data-dir", help="folder with GSM8K JSONL files (else $FAITHBENCH_DATA_DIR, else the hub)"
    )
    ev.add_argument("--no-cache", action="store_true", help="bypass the response cache")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.add_argument(
        "--db",
        help="results database to register the finished run in: SQLAlchemy URL or SQLite file "
        "(default: $FAITHBENCH_DB, else sqlite:///faithbench.db)",
    )
    ev.add_argument(
        "--no-register", action="store_true", help="do not record the run in the results database"
    )
    add_judge_options(ev)
    ev.set_defaults(func=_eval)

    sc = verbs.add_parser(
        "score",
        help="re-score a finished run with (other) metrics; generates nothing",
        description="Recompute metrics from a run's stored completions, in place.",
    )
    sc.add_argument("run", type=Path, help="run directory")
    sc.add_argument(
        "--metrics", type=comma_list, help="comma-separated metric names (default: all rule metrics)"
    )
    sc.add_argument("--quiet", action="store_true", help="no progress bar")
    sc.add_argument("--db", help="results database to re-register the run in (default: $FAITHBENCH_DB)")
    sc.add_argument("--no-register", action="store_true", help="do not update the results database")
    add_judge_options(sc)
    sc.add_argument("--no-cache", action="store_true", help="bypass the response cache for judge calls")
    sc.set_defaults(func=_score)

    cmp = verbs.add_parser(
        "compare",
        help="paired significance tests between runs on the same items",
        description="Compare runs pairwise (B - A for every pair, in the order given) on every metric, "
        "and on process_error: the share of samples where a rule metric flags a step (lower is better; "
        "the mean first flagged step is printed under the table).",
    )
    cmp.add_argument(
        "runs", nargs="+", type=Path, help="two or more run directories of the same task and data"
    )
    cmp.add_argument(
        "--metrics",
        type=comma_list,
        help="comma-separated metrics, process_error among them if wanted (default: all metrics the runs "
        "share, and process_error when they scored a rule metric)",
    )
    cmp.add_argument(
        "--correction", choices=("holm", "bh"), default="holm", help="p-value adjustment (default holm)"
    )
    cmp.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    cmp.add_argument("--json", type=Path, help="write the comparisons as JSON here")
    cmp.add_argument("--report", type=Path, help="write a self-contained HTML report here")
    cmp.add_argument(
        "--markdown", type=Path, help="write a Markdown report (for a pull-request comment) here"
    )
    cmp.set_defaults(func=_compare)

    gt = verbs.add_parser(
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

    from faithbench.interop.cli import add_import_commands
    from faithbench.interventions.cli import add_intervene_commands
    from faithbench.leaderboard.cli import add_leaderboard_commands
    from faithbench.trainers.cli import add_train_commands

    add_leaderboard_commands(verbs)
    add_import_commands(verbs)
    add_train_commands(verbs)
    add_judge_commands(verbs)
    add_intervene_commands(verbs)

    for noun, func, text in (
        ("metrics", _metrics_list, "registered metrics"),
        ("tasks", _tasks_list, "tasks"),
    ):
        group = verbs.add_parser(noun, help=f"list {text}")
        sub = group.add_subparsers(metavar="list")
        sub.add_parser("list", help=f"list {text} with a one-line description").set_defaults(func=func)
    return parser


def comma_list(text: str) -> list[str]:
    """`a, b,c` -> ['a', 'b', 'c'] for options that take several names."""
    return [n.strip() for n in text.split(",") if n.strip()]


def _eval(args: argparse.Namespace) -> int:
    from faithbench.harness.runner import EvalConfig, IncompleteRunError, run_eval

    try:
        run = run_eval(
            EvalConfig(
                model=args.model,
                task=args.task,
                out=args.out,
                limit=args.limit,
                seed=args.seed,
                max_new_tokens=args.max_new_tokens,
                temperature=args.temperature,
                batch_size=args.batch_size,
                tensor_parallel_size=args.tensor_parallel_size,
                num_fewshot=args.num_fewshot,
                metrics=args.metrics,
                data_dir=args.data_dir,
                use_cache=not args.no_cache,
                register=not args.no_register,
                db=args.db,
                progress=not args.quiet,
                judge=judge_config(args),
            )
        )
    except IncompleteRunError as exc:  # the finished samples are saved; a rerun completes the run
        print(f"faithbench: warning: {exc}", file=sys.stderr)
        return 1
    _print_run(run.path)
    return 0


def _score(args: argparse.Namespace) -> int:
    from faithbench.harness.runner import rescore
    from faithbench.harness.scoring import DEFAULT_METRICS

    run = rescore(
        args.run, args.metrics or list(DEFAULT_METRICS), progress=not args.quiet,
        register=not args.no_register, db=args.db, judge=judge_config(args), use_cache=not args.no_cache,
    )  # fmt: skip
    _print_run(run.path)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from faithbench.compare import compare_runs
    from faithbench.reports.table import comparison_table

    report = compare_runs(args.runs, metrics=args.metrics, correction=args.correction, alpha=args.alpha)
    print(comparison_table(report))
    if args.json:
        _write(args.json, report.model_dump_json(indent=2) + "\n")
    if args.markdown:
        from faithbench.reports import comparison_markdown

        _write(args.markdown, comparison_markdown(report))
    if args.report:
        from faithbench.harness.store import RunDir
        from faithbench.reports import comparison_html

        runs = {ref.label: RunDir(ref.path) for ref in report.runs}
        _write(args.report, comparison_html(report, runs))
    return 0


def _gate(args: argparse.Namespace) -> int:
    from faithbench.compare import gate, verdict_markdown

    verdict = gate(
        args.baseline, args.candidate, metrics=args.metrics or ["accuracy"], alpha=args.alpha,
        margin=args.margin, correction=args.correction,
    )  # fmt: skip
    print(verdict_markdown(verdict))
    return verdict.exit_code


def _write(path: Path, text: str) -> None:
    from faithbench.harness.store import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    print(f"wrote {path}", file=sys.stderr)


def _print_run(path: Path) -> None:
    from faithbench.harness.store import RunDir
    from faithbench.reports import summary_table

    run = RunDir(path)
    print(summary_table(run.read_summary()))
    print(f"\nrun:     {run.path}\nsamples: {run.samples_path}\nsummary: {run.summary_path}")


def _metrics_list(args: argparse.Namespace) -> int:
    from faithbench.metrics import METRICS

    return _print_described(METRICS)


def _tasks_list(args: argparse.Namespace) -> int:
    from faithbench.tasks.registry import TASKS

    return _print_described(TASKS)


def _print_described(registry: Registry[Any]) -> int:
    """Every name in a registry with its one-line description, aligned."""
    names = registry.names()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name.ljust(width)}  {registry.get(name).description}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
