"""`faithbench intervene`: intervention tests of CoT faithfulness on a finished run."""

from __future__ import annotations

import argparse
from pathlib import Path

from faithbench.cli.options import (
    Subparsers,
    add_data_dir,
    add_no_cache,
    add_quiet,
    add_register,
    comma_list,
    print_run,
    register_finished,
)


def add_commands(subparsers: Subparsers) -> None:
    """`intervene`."""
    from faithbench.interventions.probes import PROBES

    tests = "; ".join(f"{name}: {PROBES.get(name).description}" for name in PROBES.names())
    p = subparsers.add_parser(
        "intervene",
        help="intervention tests of CoT faithfulness on a finished run (needs the model)",
        description="Run intervention tests (Lanham et al. 2023 early answering, adding mistakes, filler "
        "tokens; wrong-answer hints after Turpin et al. 2023 / Chen et al. 2025) on a finished run's "
        "samples with a local model. Scores are written into the run as metrics (lanham_*, hint_*), "
        "summary.json is updated and interventions.json holds curves and aggregates. Generations go "
        "through the response cache: a rerun makes none. See docs/interventions.md.",
    )
    p.add_argument("run", type=Path, help="finished run directory")
    p.add_argument(
        "--model", help="model spec to intervene with (default: the run's model, whose weights must match)"
    )
    p.add_argument(
        "--tests", type=comma_list, help=f"comma-separated tests (default: all). {tests}", metavar="A,B"
    )
    p.add_argument("--limit", type=int, help="only the first N samples of samples.jsonl")
    p.add_argument("--batch-size", type=int, default=8, help="generation batch size (default 8)")
    p.add_argument(
        "--answer-tokens", type=int, default=8, help="new tokens for each forced answer (default 8)"
    )
    add_data_dir(p)
    add_no_cache(p)
    add_quiet(p)
    add_register(p)
    p.set_defaults(func=_intervene)


def _intervene(args: argparse.Namespace) -> int:
    from faithbench.interventions.run import InterventionConfig, intervene
    from faithbench.reports.interventions import interventions_text

    report = intervene(
        args.run,
        InterventionConfig(
            model=args.model,
            tests=args.tests,
            limit=args.limit,
            batch_size=args.batch_size,
            answer_tokens=args.answer_tokens,
            use_cache=not args.no_cache,
            progress=not args.quiet,
            data_dir=args.data_dir,
        ),
    )
    if not args.no_register:
        register_finished(args.run, args.db)
    print_run(args.run)
    print()
    print(interventions_text(report))
    return 0
