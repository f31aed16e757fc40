"""Where a decode step of the `hf:` loop spends its time: median step time for a few rows after a
5-shot GSM8K prompt, with `skinny_linear` on and off and cascade attention on and off, each pair
side by side, and optionally torch.profiler's table of the ops.

    .venv/bin/python benchmarks/profile_decode.py [--rows 2] [--steps 128] [--profile]

Each configuration decodes the same `--rows` prompts greedily for `--steps` tokens (no stop
strings), one token a row a step (prompt-lookup drafts off, so steps compare), timing every
forward pass; printed: the median over those steps.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import types
from pathlib import Path
from typing import Any

import torch

from faithbench.harness.backends import hf_kernels
from faithbench.harness.backends.hf import HFBackend
from faithbench.harness.backends.hf_decode import Sampling, shared_prefix_length, skinny_linear
from faithbench.harness.backends.smollm2 import smollm2_path
from faithbench.tasks.registry import TASKS


def set_skinny(backend: HFBackend, on: bool) -> None:
    for module in backend.model.modules():
        if type(module) is torch.nn.Linear:
            if on:
                module.forward = types.MethodType(skinny_linear, module)  # type: ignore[method-assign]
            else:
                module.__dict__.pop("forward", None)


def decode(backend: HFBackend, encoded: list[list[int]], steps: int) -> list[float]:
    """Seconds of each one-token forward pass while `encoded` decodes through len(encoded) rows."""
    times: list[float] = []
    forward = backend.decoder._forward

    def timed(cache: Any, keep: int = 1, shared: int = 0, **inputs: torch.Tensor) -> tuple[torch.Tensor, Any]:
        start = time.perf_counter()
        out = forward(cache, keep, shared, **inputs)
        if inputs["input_ids"].shape[1] == 1:
            times.append(time.perf_counter() - start)
        return out

    backend.decoder._forward = timed  # type: ignore[method-assign]
    lookahead, backend.decoder.lookahead = backend.decoder.lookahead, 0
    try:
        shared = shared_prefix_length(encoded)
        with torch.inference_mode():
            cache = backend.decoder.prefill_shared(encoded[0][:shared])
            list(backend.decoder.stream(encoded, shared, cache, steps, Sampling(), None, len(encoded)))
    finally:
        backend.decoder._forward = forward  # type: ignore[method-assign]
        backend.decoder.lookahead = lookahead
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--profile", action="store_true", help="print torch.profiler's op table (32 steps)")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("FAITHBENCH_DATA_DIR", "../shared/data/gsm8k"))
    )
    args = parser.parse_args()
    task = TASKS.get("gsm8k-fewshot")
    items, _ = task.load(str(args.data_dir), limit=args.rows)
    shots = task.fewshot_rows(5, str(args.data_dir))
    backend = HFBackend(str(smollm2_path()), batch_size=args.rows, device="cpu")
    encoded = [backend.encode(task.prompt(item, shots)) for item in items]
    print(
        f"{args.rows} rows, prompts of {min(map(len, encoded))}-{max(map(len, encoded))} tokens, "
        f"{torch.get_num_threads()} threads; skinny_pays chose {backend.decoder.skinny}"
    )
    for on in (False, True, False, True):  # alternated: machine noise hits both
        set_skinny(backend, on)
        times = decode(backend, encoded, args.steps)
        print(f"skinny_linear {'on ' if on else 'off'}: median step {statistics.median(times) * 1e3:.1f} ms")
    set_skinny(backend, backend.decoder.skinny)
    cascade_rows = hf_kernels.CASCADE_ROWS
    for on in (False, True, False, True):
        hf_kernels.CASCADE_ROWS = 1 if on else 1 << 30
        times = decode(backend, encoded, args.steps)
        state = "on " if on else "off"
        print(f"cascade attention {state}: median step {statistics.median(times) * 1e3:.1f} ms")
    hf_kernels.CASCADE_ROWS = cascade_rows
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        set_skinny(backend, backend.decoder.skinny)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            decode(backend, encoded, 32)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
