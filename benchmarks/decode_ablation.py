"""What each part of the `hf:` loop is worth: the same GSM8K 5-shot generation (`make bench`'s
prompts: greedy, at most 256 new tokens, stopping at `Question:`) with the loop as it ships and with
one part switched off at a time, alternated over `--rounds` in one process so machine noise hits all.

    .venv/bin/python benchmarks/decode_ablation.py [--items 16 64] [--rounds 2] [--batch 16]
                                                   [--device cuda --dtype bfloat16]

Parts:
- `drafts off`: no prompt-lookup drafts (one token a row a step);
- `cascade off`: every row reads its own copy of the shared prefix's keys and values (cascade
  attention runs on a CPU only, so on a GPU this equals `as shipped`);
- `stock sdpa`: transformers' `sdpa` attention, which copies the KV cache per head group when a
  step feeds several tokens a row.

Printed per configuration: median seconds of `generate` (model loaded once, before), forward passes,
tokens, and how many completions are the same text as the loop's as shipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import torch

from faithbench.harness.backends import hf_kernels
from faithbench.harness.backends.base import GenerationConfig, Request
from faithbench.harness.backends.hf import HFBackend
from faithbench.harness.backends.smollm2 import smollm2_path
from faithbench.tasks.registry import TASKS


@contextmanager
def drafts_off(backend: HFBackend) -> Iterator[None]:
    lookahead, backend.decoder.lookahead = backend.decoder.lookahead, 0
    try:
        yield
    finally:
        backend.decoder.lookahead = lookahead


@contextmanager
def cascade_off(backend: HFBackend) -> Iterator[None]:
    rows, hf_kernels.CASCADE_ROWS = hf_kernels.CASCADE_ROWS, 1 << 30
    try:
        yield
    finally:
        hf_kernels.CASCADE_ROWS = rows


@contextmanager
def stock_sdpa(backend: HFBackend) -> Iterator[None]:
    backend.model.set_attn_implementation("sdpa")
    try:
        yield
    finally:
        backend.model.set_attn_implementation(hf_kernels.PACKED_GQA)


@contextmanager
def as_shipped(backend: HFBackend) -> Iterator[None]:
    yield


CONFIGS: dict[str, Callable[[HFBackend], AbstractContextManager[None]]] = {
    "as shipped": as_shipped,
    "drafts off": drafts_off,
    "cascade off": cascade_off,
    "stock sdpa": stock_sdpa,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--device", default="cpu", help="cpu | cuda")
    parser.add_argument("--dtype", default=None, help="float32 | bfloat16 (default: by device)")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("FAITHBENCH_DATA_DIR", "../shared/data/gsm8k"))
    )
    args = parser.parse_args()
    task = TASKS.get("gsm8k-fewshot")
    shots = task.fewshot_rows(5, str(args.data_dir))
    backend = HFBackend(str(smollm2_path()), batch_size=args.batch, device=args.device, dtype=args.dtype)
    forwards: list[int] = []
    backend.model.register_forward_pre_hook(lambda module, args: forwards.append(1))
    config = GenerationConfig(max_new_tokens=256, stop=("Question:",))
    dtype = str(backend.model.dtype).removeprefix("torch.")
    threads = torch.get_num_threads()
    print(f"SmolLM2-135M {dtype} on {backend.device}, {threads} CPU threads, {args.batch} rows")
    for count in args.items:
        items, _ = task.load(str(args.data_dir), limit=count)
        requests = [Request(id=item.id, prompt=task.prompt(item, shots)) for item in items]
        with torch.inference_mode():  # warm-up: first-call costs (the stop check's table) go here
            backend.generate(requests[:2], config)
        seconds: dict[str, list[float]] = {name: [] for name in CONFIGS}
        texts: dict[str, list[str]] = {}
        steps: dict[str, int] = {}
        for _ in range(args.rounds):
            for name, switch in CONFIGS.items():
                forwards.clear()
                with switch(backend), torch.inference_mode():
                    start = time.perf_counter()
                    out = backend.generate(requests, config)
                    seconds[name].append(time.perf_counter() - start)
                texts[name] = [completion.text for completion in out]
                steps[name] = len(forwards)
        tokens = sum(completion.n_tokens or 0 for completion in out)
        shipped = statistics.median(seconds["as shipped"])
        print(f"\n{count} items, {tokens} tokens")
        print(f"{'configuration':<12} {'median s':>9} {'vs shipped':>10} {'forwards':>9} {'same text':>10}")
        for name in CONFIGS:
            median = statistics.median(seconds[name])
            same = sum(a == b for a, b in zip(texts[name], texts["as shipped"], strict=True))
            print(f"{name:<12} {median:>9.2f} {median / shipped:>9.2f}x {steps[name]:>9} {same:>6}/{count}")


if __name__ == "__main__":
    main()
