"""`faithbench eval`: run a task through a model into a run directory, then record the run."""

from __future__ import annotations

import argparse
import sys

from faithbench.cli.judge import add_judge_options, judge_stages
from faithbench.cli.options import (
    Subparsers,
    add_data_dir,
    add_metrics,
    add_no_cache,
    add_quiet,
    add_register,
    out_path,
    print_run,
    register_finished,
)
from faithbench.harness.backends.hf import DTYPES
from faithbench.sanitize import for_terminal


def add_commands(subparsers: Subparsers) -> None:
    """`eval`."""
    ev = subparsers.add_parser(
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
        type=out_path,
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
    ev.add_argument(
        "--dtype",
        choices=DTYPES,
        help="smollm2, hf: and vllm: models: the weights' dtype; auto = the checkpoint's own "
        "(default: float32 on a CPU, bfloat16 on a GPU that has it; vllm: the checkpoint's). "
        "Part of the model identity, so of the response-cache key",
    )
    ev.add_argument(
        "--device",
        default="auto",
        help="smollm2 and hf: models: cpu | cuda | cuda:N | mps (default auto: cuda when there is one, "
        "else cpu); recorded in run.json",
    )
    ev.add_argument("--num-fewshot", type=int, help="exemplars for gsm8k-fewshot (default 5)")
    add_metrics(ev)
    add_data_dir(ev)
    add_no_cache(ev)
    add_quiet(ev)
    add_register(ev)
    add_judge_options(ev)
    ev.set_defaults(func=_eval)


def _eval(args: argparse.Namespace) -> int:
    from faithbench.harness.backends import load_backend
    from faithbench.harness.runner import EvalConfig, IncompleteRunError, run_eval

    config = EvalConfig(
        model=args.model,
        task=args.task,
        out=args.out,
        limit=args.limit,
        seed=args.seed,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        batch_size=args.batch_size,
        tensor_parallel_size=args.tensor_parallel_size,
        dtype=args.dtype,
        device=args.device,
        num_fewshot=args.num_fewshot,
        metrics=args.metrics,
        data_dir=args.data_dir,
        use_cache=not args.no_cache,
        progress=not args.quiet,
    )
    backend = None
    if args.judge and args.judge == args.model:  # a model judging its own rationales is loaded once
        backend = load_backend(
            args.model,
            batch_size=args.batch_size,
            tensor_parallel_size=args.tensor_parallel_size,
            dtype=args.dtype,
            device=args.device,
        )
    try:
        with judge_stages(args, backend) as stages:
            run = run_eval(config, backend, stages)
    except IncompleteRunError as exc:  # the finished samples are saved; a rerun completes the run
        print(f"faithbench: warning: {for_terminal(str(exc))}", file=sys.stderr)
        return 1
    info = run.read_info()
    if info.limit is not None and info.n_items < info.limit:
        source = (
            "the predictions file has only" if args.model.startswith("predictions:") else "there are only"
        )
        print(
            f"faithbench: warning: --limit {info.limit}, but {source} {info.n_items} items of task "
            f"{info.task!r}: the run holds {info.n_items}, {info.limit - info.n_items} fewer than asked",
            file=sys.stderr,
        )
    if not args.no_register:
        register_finished(run.path, args.db)
    print_run(run.path)
    return 0
