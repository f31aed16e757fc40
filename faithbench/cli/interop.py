"""`faithbench import lm-eval|inspect`: another tool's completions -> a scored faithbench run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from faithbench.cli.options import Subparsers, add_data_dir, add_db, add_metrics, register_finished, usage

if TYPE_CHECKING:
    from faithbench.harness.store import RunDir


def add_commands(subparsers: Subparsers) -> None:
    """`import lm-eval` and `import inspect`."""
    imp = subparsers.add_parser(
        "import",
        help="turn an lm-eval samples file or an inspect-ai log into a faithbench run",
        description="Score completions made by lm-eval or inspect-ai with faithbench's metrics and "
        "write a run directory that compare, gate, score and the leaderboard accept.",
    )
    sources = imp.add_subparsers(title="sources", metavar="SOURCE")

    lm = sources.add_parser(
        "lm-eval",
        help="an lm-eval --log_samples file of a GSM8K task",
        description="Import an lm-eval samples_<task>_<time>.jsonl (GSM8K test, doc_id i -> test-i). "
        "strict_answer/answer are lm-eval's strict-match/flexible-extract filtered answers, normalised.",
    )
    lm.add_argument("file", type=Path, metavar="SAMPLES.jsonl")
    lm.add_argument(
        "--task", default="gsm8k-fewshot", help="faithbench task the run belongs to (default gsm8k-fewshot)"
    )
    lm.set_defaults(func=_import, source="lm-eval")

    ins = sources.add_parser(
        "inspect",
        help="an inspect-ai log (.eval or .json) of a GSM8K task",
        description="Import an inspect-ai eval log: one faithbench sample per log sample (epoch 1).",
    )
    ins.add_argument("file", type=Path, metavar="LOG")
    ins.add_argument(
        "--task", help="faithbench task (default: the log's task argument for faithbench's task, else gsm8k)"
    )
    ins.set_defaults(func=_import, source="inspect")

    for p in (lm, ins):
        p.add_argument("--out", type=Path, required=True, help="new run directory")
        p.add_argument("--model", help="model name for the run (default: from the file)")
        add_metrics(p)
        add_data_dir(p)
        p.add_argument("--register", action="store_true", help="record the run in the results database")
        add_db(p)
    imp.set_defaults(func=lambda args: usage(imp))


def _import(args: argparse.Namespace) -> int:
    if args.source == "lm-eval":
        from faithbench.interop.lm_eval_import import import_lm_eval as importer
    else:
        from faithbench.interop.inspect_import import import_inspect as importer

    run = importer(
        args.file,
        args.out,
        task=args.task,
        model=args.model,
        metrics=args.metrics,
        data_dir=args.data_dir,
    )
    if args.register:
        register_finished(run.path, args.db)
    return _report(run)


def _report(run: RunDir) -> int:
    summary = run.read_summary()
    print(f"imported {summary.n_samples} samples into {run.path}")
    for name, m in summary.metrics.items():
        mean = "-" if m.mean is None else f"{m.mean:.3f}"
        print(f"  {name:<20} {mean}  (n={m.n}, unscored={m.n_unscored})")
    return 0
