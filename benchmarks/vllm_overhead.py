"""faithbench's vLLM backend against the bare engine on the same prompts, side by side in one run.

The bare run is a process that starts `vllm.LLM` (prefix caching on, the memory share faithbench
uses) and calls `LLM.generate` once on the token ids faithbench would send: GSM8K test, first
`--limit` items, 5-shot lm-eval format, greedy, <= 256 new tokens, stop at `Question:`. The
faithbench run is `faithbench eval --model vllm:smollm2` on the same items, all in one batch, which
also scores every sample and writes the run directory. Both are timed from launch to exit and run
alternately `--rounds` times; printed: median walls, faithbench's overhead in percent, and whether
the completions are the same.

Runs in the vLLM venv and installs nothing (`make vllm` builds it):

    .venv-vllm/bin/python benchmarks/vllm_overhead.py [--limit 16] [--rounds 3]
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

from faithbench.harness.backends.hf import encode_prompt
from faithbench.harness.backends.smollm2 import smollm2_path
from faithbench.harness.backends.vllm import CPU_MEMORY_UTILIZATION
from faithbench.tasks.registry import TASKS

BARE = """
import json, sys
from vllm import LLM, SamplingParams

if __name__ == "__main__":
    job = json.load(open(sys.argv[1]))
    llm = LLM(model=job["model"], enable_prefix_caching=True, gpu_memory_utilization=job["share"], seed=0)
    params = SamplingParams(max_tokens=job["max_tokens"], temperature=0.0, stop=job["stop"])
    outputs = llm.generate([{"prompt_token_ids": ids} for ids in job["prompts"]], params, use_tqdm=False)
    json.dump([o.outputs[0].text for o in outputs], open(sys.argv[2], "w"))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--num-fewshot", type=int, default=5)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("FAITHBENCH_DATA_DIR", "../shared/data/gsm8k"))
    )
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    model_dir = smollm2_path()

    from transformers import AutoTokenizer

    task = TASKS.get("gsm8k-fewshot")
    items, _ = task.load(data_dir, limit=args.limit)
    shots = task.fewshot_rows(args.num_fewshot, data_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    prompts = [encode_prompt(tokenizer, task.prompt(item, shots), str(model_dir)) for item in items]
    walls: dict[str, list[float]] = {"bare": [], "faithbench": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        job = work / "job.json"
        job.write_text(
            json.dumps(
                {
                    "model": str(model_dir),
                    "share": CPU_MEMORY_UTILIZATION,
                    "max_tokens": args.max_new_tokens,
                    "stop": list(task.stop),
                    "prompts": prompts,
                }
            )
        )
        (work / "bare.py").write_text(BARE)
        env = {**os.environ, "FAITHBENCH_RESPONSES_DB": str(work / "responses.sqlite")}
        for round_ in range(args.rounds):
            walls["bare"].append(
                _run([sys.executable, str(work / "bare.py"), str(job), str(work / "bare.json")], env)
            )
            out = work / f"run-{round_}"
            command = [
                str(Path(sys.executable).with_name("faithbench")), "eval",
                "--model", "vllm:smollm2", "--task", "gsm8k-fewshot",
                "--num-fewshot", str(args.num_fewshot), "--limit", str(args.limit),
                "--max-new-tokens", str(args.max_new_tokens), "--batch-size", str(args.limit),
                "--data-dir", str(data_dir), "--out", str(out), "--no-cache", "--no-register", "--quiet",
            ]  # fmt: skip
            walls["faithbench"].append(_run(command, env))
            print(
                f"round {round_ + 1}: bare {walls['bare'][-1]:.1f} s, "
                f"faithbench {walls['faithbench'][-1]:.1f} s"
            )
        bare_texts = json.loads((work / "bare.json").read_text())
        ours = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    by_id = {record["id"]: record["completion"] for record in ours}
    same = sum(by_id[item.id] == text for item, text in zip(items, bare_texts, strict=True))
    bare, fb = statistics.median(walls["bare"]), statistics.median(walls["faithbench"])
    print(
        f"\nvLLM-CPU, SmolLM2-135M, {args.limit} items {args.num_fewshot}-shot, "
        f"{args.rounds} rounds, median wall"
    )
    print("| run | wall s |\n|---|---|")
    print(f"| bare LLM.generate | {bare:.1f} |\n| faithbench eval --model vllm:smollm2 | {fb:.1f} |")
    print(f"\nfaithbench overhead: {100 * (fb - bare) / bare:+.1f}%; same completions {same}/{len(items)}")


def _run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{command[1]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return wall


if __name__ == "__main__":
    main()
