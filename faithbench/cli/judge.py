"""The judge options of `eval`, `score` and `distill`, and `faithbench judge-check`."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from faithbench.cli.options import Subparsers, add_data_dir, add_no_cache, add_quiet, write_output

if TYPE_CHECKING:  # the judge machinery loads only when a judge is asked for
    from pydantic import BaseModel

    from faithbench.harness.backends.base import Backend
    from faithbench.harness.scoring import Stage
    from faithbench.judges.judge import JudgeConfig

_SPEC_HELP = (
    "model spec of an LLM judge grading every rationale: smollm2 | hf:PATH | openai:MODEL@BASE_URL | "
    "deepseek:MODEL (see docs/judges.md)"
)


def add_judge_options(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """`--judge SPEC` and the judge's settings."""
    parser.add_argument("--judge", metavar="SPEC", required=required, help=_SPEC_HELP)
    parser.add_argument(
        "--judge-no-gold", action="store_true", help="do not show the judge the gold answer (default: shown)"
    )
    parser.add_argument(
        "--judge-temperature", type=float, default=0.0, help="judge sampling temperature (default 0, greedy)"
    )
    parser.add_argument("--judge-seed", type=int, default=0, help="judge sampling seed (default 0)")
    parser.add_argument(
        "--judge-max-new-tokens",
        type=int,
        default=256,
        help="upper bound on a verdict's tokens (default 256; a reasoning judge needs more)",
    )
    parser.add_argument(
        "--judge-batch-size", type=int, default=8, help="verdicts asked for per batch (default 8)"
    )


def judge_config(args: argparse.Namespace) -> JudgeConfig | None:
    """The judge the options ask for, or None without `--judge`."""
    if not args.judge:
        return None
    from faithbench.judges.judge import JudgeConfig

    return JudgeConfig(
        spec=args.judge,
        gold=not args.judge_no_gold,
        temperature=args.judge_temperature,
        seed=args.judge_seed,
        max_new_tokens=args.judge_max_new_tokens,
        batch_size=args.judge_batch_size,
    )


@contextlib.contextmanager
def judge_stages(args: argparse.Namespace, backend: Backend | None = None) -> Iterator[list[Stage]]:
    """The scoring stages the judge options ask for: [] without `--judge`, else the judge behind the
    response cache (unless --no-cache), closed on exit. `backend`: the model already loaded for the
    judge's spec (a model judging its own rationales is loaded once)."""
    config = judge_config(args)
    if config is None:
        yield []
        return
    from faithbench.judges.judge import open_judge

    with open_judge(config, use_cache=not args.no_cache, backend=backend) as judge:
        yield [judge]


def add_commands(subparsers: Subparsers) -> None:
    """`judge-check`."""
    jc = subparsers.add_parser(
        "judge-check",
        help="measure a judge on planted errors or on MR-GSM8K's human labels before trusting it",
        description="Suite 'planted' (default): grade GSM8K test reference solutions, untouched and "
        "with one planted error each (a step's result changed, an ungrounded number, a wrong final "
        "answer), and report the judge's detection and false-alarm rates, first-error-step accuracy, "
        "ProcessBench F1 and Cohen's kappa with the rule-based metrics; four cases per reference. "
        "Suite 'mr-gsm8k': grade MR-GSM8K's real wrong solutions and their GSM8K references, and "
        "report the judge's first-error accuracy against the human labels, share flagged, false "
        "alarms on references and ProcessBench F1 next to the rule metrics' same figures.",
    )
    add_judge_options(jc, required=True)
    jc.add_argument(
        "--suite",
        choices=("planted", "mr-gsm8k"),
        default="planted",
        help="planted errors in GSM8K references (default) or MR-GSM8K's human-labelled wrong solutions",
    )
    jc.add_argument(
        "--limit",
        type=int,
        help="planted: number of reference solutions (default 25, i.e. 100 cases); "
        "mr-gsm8k: the first N usable wrong solutions, each with its reference (default all)",
    )
    jc.add_argument(
        "--seed", type=int, default=0, help="planted: seed choosing where errors are planted (default 0)"
    )
    add_data_dir(jc)
    jc.add_argument(
        "--mr-gsm8k",
        type=Path,
        metavar="FILE",
        help="mr-gsm8k: MR-GSM8K's original-wrong-solutions.jsonl (else $FAITHBENCH_MR_GSM8K, else "
        "mr-gsm8k/original-wrong-solutions.jsonl beside the GSM8K data folder)",
    )
    jc.add_argument("--json", type=Path, help="write the report, with every case, as JSON here")
    jc.add_argument("--out", type=Path, help="write the printed table here too")
    add_no_cache(jc)
    add_quiet(jc)
    jc.set_defaults(func=_judge_check)


def _judge_check(args: argparse.Namespace) -> int:
    from faithbench.errors import FaithbenchError
    from faithbench.judges.check import run_judge_check
    from faithbench.reports.judge_check import check_table

    if args.limit is not None and args.limit < 1:
        raise FaithbenchError("--limit must be at least 1")
    if args.mr_gsm8k is not None and args.suite != "mr-gsm8k":
        raise FaithbenchError("--mr-gsm8k is an option of --suite mr-gsm8k")
    config = judge_config(args)
    assert config is not None
    report: BaseModel
    if args.suite == "mr-gsm8k":
        from faithbench.reports.validity import judge_markdown
        from faithbench.validity.mrgsm8k_judge import run_judge_suite

        report = run_judge_suite(
            config,
            args.mr_gsm8k,
            data_dir=args.data_dir,
            limit=args.limit,
            use_cache=not args.no_cache,
            progress=not args.quiet,
        )
        table = judge_markdown(report)
    else:
        report = run_judge_check(
            config,
            25 if args.limit is None else args.limit,
            data_dir=args.data_dir,
            seed=args.seed,
            use_cache=not args.no_cache,
            progress=not args.quiet,
        )
        table = check_table(report)
    print(table)
    if args.out:
        write_output(args.out, table + "\n")
    if args.json:
        write_output(args.json, report.model_dump_json(indent=2) + "\n")
    return 0
