"""faithbench against lm-eval 0.4.13 (hf backend) on the same GSM8K 5-shot prompts, side by side in one run.

Both run SmolLM2-135M-Instruct (fp32, CPU) on the first 16 and the first 64 GSM8K test items
(`--limits`) with lm-eval's `gsm8k` prompt format and its first-n train exemplars, greedy, at most
256 new tokens, stopping at `Question:`. Each tool runs as its own process, timed from launch to
exit (imports and model load included), alternately `--rounds` times so machine noise hits both.
Printed: wall time, generated tokens, tokens/s and the ratio; whether the prompts were identical;
whether the completions and the extracted answers agree; and the machine's decode roofline, measured
on the spot.

lm-eval reads GSM8K from the same local files through a task config written at run time (its
stock `gsm8k` task downloads from the hub and samples exemplars at random; this one is the stock
config with `dataset_path: json` and `sampler: first_n`). The response caches of both are off.

This script installs nothing. `make bench` builds `.venv-bench` (lm_eval[hf]==0.4.13 beside
faithbench, CPU torch) and runs it:

    make bench                                   # or, once the venv exists:
    .venv-bench/bin/python benchmarks/vs_lmeval.py [--limits 16 64] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import yaml

from faithbench.harness.backends.smollm2 import smollm2_path

STOP = "Question:"


def roofline(model_dir: Path) -> dict[str, float]:
    """Memory bandwidth (a 256 MiB copy) and fp32 matmul FLOP/s, measured now, and what they allow a
    decode step: every step reads all weights once (bandwidth bound, any batch) and does 2 FLOPs
    per weight per row (compute bound)."""
    n_params = sum(int(torch.tensor(shape).prod()) for shape in _weight_shapes(model_dir))
    src = torch.ones(64 << 20)  # 256 MiB of fp32
    dst = torch.empty_like(src)
    best_copy = min(_timed(lambda: dst.copy_(src)) for _ in range(5))
    bandwidth = 2 * src.numel() * 4 / best_copy  # read + write
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    best_mm = min(_timed(lambda: a @ b) for _ in range(5))
    flops = 2 * 2048**3 / best_mm
    weight_bytes = n_params * 4
    return {
        "params": n_params,
        "bandwidth_gbs": bandwidth / 1e9,
        "gflops": flops / 1e9,
        "steps_per_s_bandwidth": bandwidth / weight_bytes,  # batch-1 decode tokens/s at best
        "tokens_per_s_compute": flops / (2 * n_params),  # any batch, at best
    }


def _weight_shapes(model_dir: Path) -> list[list[int]]:
    from safetensors import safe_open

    shapes = []
    for path in sorted(model_dir.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as handle:
            shapes += [list(handle.get_slice(name).get_shape()) for name in handle.keys()]  # noqa: SIM118
    return shapes


def _timed(work: Any) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def lmeval_task(tasks_dir: Path, data_dir: Path) -> str:
    """The stock gsm8k config with local JSONL files and first-n exemplars, as a task named
    `gsm8k_local` in `tasks_dir`."""
    import lm_eval

    stock = Path(lm_eval.__file__).parent / "tasks" / "gsm8k" / "gsm8k.yaml"
    config = yaml.safe_load(stock.read_text())
    config.pop("tag", None)
    config.update(
        task="gsm8k_local",
        dataset_path="json",
        dataset_name=None,
        dataset_kwargs={
            "data_files": {"train": str(data_dir / "train.jsonl"), "test": str(data_dir / "test.jsonl")}
        },
        fewshot_config={"sampler": "first_n"},
    )
    (tasks_dir / "gsm8k_local.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return "gsm8k_local"


def run_lmeval(
    args: argparse.Namespace, model_dir: Path, work: Path, round_: int
) -> tuple[float, list[dict[str, Any]]]:
    out = work / f"lmeval-{round_}"
    command = [
        str(Path(sys.executable).with_name("lm-eval")),
        "run",
        "--model", "hf",
        "--model_args", f"pretrained={model_dir},dtype=float32",
        "--tasks", lmeval_task(work, args.data_dir),
        "--include_path", str(work),
        "--num_fewshot", str(args.num_fewshot),
        "--limit", str(args.limit),
        "--batch_size", str(args.lmeval_batch_size),
        "--device", "cpu",
        "--gen_kwargs", f"max_gen_toks={args.max_new_tokens}",
        "--output_path", str(out),
        "--log_samples",
    ]  # fmt: skip
    wall = _run(command)
    samples = [
        json.loads(line) for path in out.rglob("samples_*.jsonl") for line in path.read_text().splitlines()
    ]
    return wall, samples


def run_faithbench(args: argparse.Namespace, work: Path, round_: int) -> tuple[float, list[dict[str, Any]]]:
    out = work / f"faithbench-{round_}"
    command = [
        str(Path(sys.executable).with_name("faithbench")),
        "eval",
        "--model", args.faithbench_model,
        "--task", "gsm8k-fewshot",
        "--num-fewshot", str(args.num_fewshot),
        "--limit", str(args.limit),
        "--max-new-tokens", str(args.max_new_tokens),
        "--batch-size", str(args.faithbench_batch_size),
        "--data-dir", str(args.data_dir),
        "--out", str(out),
        "--no-cache", "--no-register", "--quiet",
    ]  # fmt: skip
    wall = _run(command)
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return wall, samples


def _run(command: list[str]) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[:2])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall


def compare(lmeval: list[dict[str, Any]], ours: list[dict[str, Any]], tokenizer: Any) -> dict[str, Any]:
    """Per item: same prompt, same completion, same strict and flexible answers; and the tokens each
    generated (the kept text re-tokenized with the model's tokenizer, so both are counted alike)."""
    by_doc: dict[int, dict[str, Any]] = {}
    for sample in lmeval:
        entry = by_doc.setdefault(sample["doc_id"], {})
        entry["prompt"] = sample["arguments"]["gen_args_0"]["arg_0"]
        entry["text"] = sample["resps"][0][0]
        entry[sample["filter"]] = sample["filtered_resps"][0]
    from faithbench.parsing.answers import normalize_number

    def norm(value: str | None) -> str | None:
        return None if value in (None, "[invalid]") else normalize_number(str(value))

    rows = {"prompt": 0, "completion": 0, "strict": 0, "flexible": 0}
    tokens = {"lm-eval": 0, "faithbench": 0}
    for record in ours:
        theirs = by_doc[int(record["id"].removeprefix("test-"))]
        rows["prompt"] += theirs["prompt"] == record["prompt"]
        rows["completion"] += theirs["text"].split(STOP)[0].strip() == record["completion"].strip()
        rows["strict"] += norm(theirs.get("strict-match")) == record["strict_answer"]
        rows["flexible"] += norm(theirs.get("flexible-extract")) == record["answer"]
        tokens["lm-eval"] += len(
            tokenizer(theirs["text"].split(STOP)[0], add_special_tokens=False)["input_ids"]
        )
        tokens["faithbench"] += len(tokenizer(record["completion"], add_special_tokens=False)["input_ids"])
    return {"same": rows, "tokens": tokens, "n": len(ours)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--limits", type=int, nargs="+", default=[16, 64], help="item counts, one comparison each (16 64)"
    )
    parser.add_argument("--num-fewshot", type=int, default=5)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--lmeval-batch-size", type=int, default=8)
    parser.add_argument("--faithbench-batch-size", type=int, default=16)
    parser.add_argument("--faithbench-model", default="smollm2")
    parser.add_argument("--rounds", type=int, default=1, help="alternate runs of each tool (default 1)")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("FAITHBENCH_DATA_DIR", "../shared/data/gsm8k"))
    )
    args = parser.parse_args()
    args.data_dir = args.data_dir.resolve()
    model_dir = smollm2_path()

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    roof = roofline(model_dir)
    for limit in args.limits:
        args.limit = limit
        compare_at(args, model_dir, tokenizer)
    print(
        f"\nroofline ({roof['params'] / 1e6:.0f}M fp32 parameters): "
        f"memory {roof['bandwidth_gbs']:.1f} GB/s -> at most {roof['steps_per_s_bandwidth']:.0f} decode "
        f"steps/s (all rows of a batch share a step); matmul {roof['gflops']:.0f} GFLOP/s -> at most "
        f"{roof['tokens_per_s_compute']:.0f} tokens/s at any batch"
    )


def compare_at(args: argparse.Namespace, model_dir: Path, tokenizer: Any) -> None:
    """Both tools on the first `args.limit` items, `args.rounds` alternate rounds; one table."""
    walls: dict[str, list[float]] = {"lm-eval": [], "faithbench": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["FAITHBENCH_RESPONSES_DB"] = str(work / "responses.sqlite")
        for round_ in range(args.rounds):
            lm_wall, lm_samples = run_lmeval(args, model_dir, work, round_)
            fb_wall, fb_samples = run_faithbench(args, work, round_)
            walls["lm-eval"].append(lm_wall)
            walls["faithbench"].append(fb_wall)
            print(
                f"{args.limit} items, round {round_ + 1}: "
                f"lm-eval {lm_wall:.1f} s, faithbench {fb_wall:.1f} s",
                file=sys.stderr,
            )
        result = compare(lm_samples, fb_samples, tokenizer)

    n, tokens = result["n"], result["tokens"]
    print(
        f"\nSmolLM2-135M-Instruct fp32 on {torch.get_num_threads()} CPU threads; GSM8K test first {n}, "
        f"{args.num_fewshot}-shot (lm-eval format, first-n), greedy, <= {args.max_new_tokens} new tokens, "
        f"stop {STOP!r}; {args.rounds} round(s), median wall\n"
    )
    print("| tool | batch | wall s | tokens | tokens/s | speed-up |")
    print("|---|---|---|---|---|---|")
    lm_median = statistics.median(walls["lm-eval"])
    for tool, batch in (
        ("lm-eval 0.4.13 hf", args.lmeval_batch_size),
        ("faithbench", args.faithbench_batch_size),
    ):
        key = "lm-eval" if tool.startswith("lm-eval") else "faithbench"
        wall = statistics.median(walls[key])
        print(
            f"| {tool} | {batch} | {wall:.1f} | {tokens[key]} | {tokens[key] / wall:.1f} | "
            f"{lm_median / wall:.2f}x |"
        )
    same = result["same"]
    print(
        f"\nsame prompt {same['prompt']}/{n}, same completion {same['completion']}/{n}, "
        f"same strict-match answer {same['strict']}/{n}, same flexible-extract answer {same['flexible']}/{n}"
    )


if __name__ == "__main__":
    main()
