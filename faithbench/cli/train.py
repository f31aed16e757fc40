"""`faithbench distill`, `faithbench train sft|grpo` and `faithbench train merge`. Torch and TRL load only
when a command runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from faithbench.cli.judge import add_judge_options, judge_config
from faithbench.cli.options import Subparsers, add_data_dir, add_no_cache, add_quiet, usage


def add_commands(subparsers: Subparsers) -> None:
    """`distill` and `train sft|grpo`."""
    from faithbench.trainers.distill import DEFAULT_TEACHER

    dst = subparsers.add_parser(
        "distill",
        help="ask a teacher model on GSM8K, keep only faithful traces as training data",
        description="Prompt the teacher with the eval prompt on a GSM8K split (cached and resumable like "
        "eval), score every trace with the metrics, drop unfaithful ones and duplicates, and write "
        "DIR/dataset (HF datasets), DIR/kept.jsonl and DIR/filter_report.json.",
    )
    dst.add_argument(
        "--teacher", default=DEFAULT_TEACHER, help=f"teacher model spec (default {DEFAULT_TEACHER})"
    )
    dst.add_argument("--split", default="train", help="GSM8K split to distil (default train)")
    dst.add_argument("--limit", type=int, help="only the first N questions")
    dst.add_argument("--out", type=Path, required=True, help="output folder; an unfinished one is resumed")
    dst.add_argument(
        "--filter",
        type=Path,
        help="filter YAML (e.g. configs/distill/faithful.yaml; default: the same rules)",
    )
    dst.add_argument(
        "--max-new-tokens", type=int, default=2048, help="teacher tokens per trace (default 2048)"
    )
    dst.add_argument("--temperature", type=float, default=0.0, help="teacher temperature (default 0)")
    dst.add_argument("--batch-size", type=int, default=8, help="requests per batch (default 8)")
    add_data_dir(dst)
    add_no_cache(dst)
    add_quiet(dst)
    add_judge_options(dst)
    dst.set_defaults(func=_distill)

    train = subparsers.add_parser(
        "train",
        help="LoRA-SFT or GRPO training from a recipe; the adapter evaluates with eval --model BASE+lora:DIR",
        description="Train a LoRA adapter from a YAML recipe (configs/sft, configs/grpo). OUT gets adapter/, "
        "recipe.yaml (resolved), run_card.json, log_history.jsonl and checkpoints/; rerunning the same "
        "command resumes a killed run.",
    )
    kinds = train.add_subparsers(title="trainers", metavar="TRAINER")
    for kind, text in (
        ("sft", "supervised fine-tuning (TRL SFTTrainer + PEFT LoRA), loss on completions only"),
        ("grpo", "GRPO (TRL GRPOTrainer) with rewards built from the registered metrics"),
    ):
        cmd = kinds.add_parser(kind, help=text, description=text)
        cmd.add_argument("--config", type=Path, required=True, help=f"recipe YAML (configs/{kind}/*.yaml)")
        cmd.add_argument("--out", type=Path, help=f"output folder (default runs/train/{kind}-<recipe name>)")
        cmd.set_defaults(func=_train, kind=kind)
    merge = kinds.add_parser(
        "merge",
        help="merge a LoRA adapter into its base: a checkpoint that hf:OUT loads",
        description="Merge BASE+lora:ADAPTER into full float32 weights at OUT (with the tokenizer and "
        "lineage.json: base, adapters, recipes, data). `faithbench eval --model hf:OUT` scores it; a "
        "recipe's `model: hf:OUT` trains on it. A finished merge of the same adapter is kept.",
    )
    merge.add_argument("--model", required=True, help="smollm2+lora:ADAPTER_DIR or hf:PATH+lora:ADAPTER_DIR")
    merge.add_argument("--out", type=Path, required=True, help="folder for the merged checkpoint")
    merge.set_defaults(func=_merge)
    train.set_defaults(func=lambda args: usage(train))


def _distill(args: argparse.Namespace) -> int:
    from faithbench.errors import FaithbenchError
    from faithbench.trainers.distill import DistillConfig, distill

    if args.limit is not None and args.limit < 1:
        raise FaithbenchError("--limit must be at least 1")
    report = distill(
        DistillConfig(
            out=args.out, teacher=args.teacher, split=args.split, limit=args.limit, filter=args.filter,
            max_new_tokens=args.max_new_tokens, temperature=args.temperature, batch_size=args.batch_size,
            data_dir=args.data_dir, use_cache=not args.no_cache, progress=not args.quiet,
            judge=judge_config(args),
        )
    )  # fmt: skip
    print(f"{report.teacher}: {report.n_traces} traces, {report.n_kept} kept")
    for reason, n in sorted(report.dropped.items(), key=lambda kv: -kv[1]):
        print(f"  dropped {n:>5}  {reason}")
    print(f"\ndataset: {args.out / 'dataset'}\nreport:  {args.out / 'filter_report.json'}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from faithbench.trainers.merge import merge_adapter

    out = merge_adapter(args.model, args.out)
    print(f"merged: {out}\nevaluate: faithbench eval --model hf:{out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    if args.kind == "sft":
        from faithbench.trainers.sft import train_sft as train
    else:
        from faithbench.trainers.grpo import train_grpo as train
    card = train(args.config, args.out)
    print(
        f"{card.kind}: {card.steps} steps in {card.wall_seconds:.0f} s, train loss {card.train_loss}\n"
        f"adapter: {card.adapter}\nevaluate: faithbench eval --model {card.eval_model_spec}"
    )
    return 0
