"""Generation throughput of the paths a user could pick, on the same prompts, in one run (CPU or GPU).

Paths, each on the same GSM8K zero-shot chat prompts, greedy, at most `--max-new-tokens` tokens:

- `faithbench`: the `hf:` backend's loop (shared prefix once, continuous batching; `hf_decode`);
- `generate`: plain `transformers.generate`, `--batch` left-padded prompts a call;
- `generate_batch`: transformers' own continuous batching (`model.generate_batch`, paged attention);
- `vllm`: the vLLM engine, where it is installed (prefix caching on).

Each path is timed from its first request to its last completion, with the model already loaded
(one load for the transformers paths). Printed per path: wall seconds, generated tokens (EOS not
counted), tokens/s, the share of completion texts identical to `generate`'s (each decoded the way
faithbench decodes its own; `generate` is the peer every other path must match), and the
roofline measured on the spot: every decode step reads all weights once, so tokens/s is at most
rows x (memory bandwidth / weight bytes). A path that fails prints why and the others go on.

    .venv/bin/python benchmarks/gpu_decode.py --items 64 --batch 16            # this CPU
    python benchmarks/gpu_decode.py --items 512 --batch 128 --dtype bfloat16   # a GPU (docs/speed.md)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from faithbench.harness.backends.base import GenerationConfig, Request
from faithbench.harness.backends.hf import HFBackend
from faithbench.harness.backends.smollm2 import smollm2_path
from faithbench.tasks.registry import TASKS

PATHS = ("faithbench", "generate", "generate_batch", "vllm")


def roofline(device: torch.device, weight_bytes: int) -> tuple[float, float]:
    """(memory bandwidth in GB/s from a 1 GiB copy, decode steps/s it allows)."""
    src = torch.ones(256 << 20, device=device)
    dst = torch.empty_like(src)
    best = float("inf")
    for _ in range(5):
        _sync(device)
        start = time.perf_counter()
        dst.copy_(src)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    bandwidth = 2 * src.numel() * 4 / best
    return bandwidth / 1e9, bandwidth / weight_bytes


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


Output = tuple[list[str], int]  # completion texts in prompt order, tokens generated


def run_faithbench(backend: HFBackend, requests: list[Request], config: GenerationConfig) -> Output:
    completions = backend.generate(requests, config)
    return [c.text for c in completions], sum(c.n_tokens or 0 for c in completions)


def _texts(backend: HFBackend, rows: list[list[int]]) -> Output:
    """Texts as faithbench's backend decodes its own tokens, and how many tokens (EOS excluded)."""
    return [backend._decode(row) for row in rows], sum(len(row) for row in rows)


def run_generate(
    backend: HFBackend, encoded: list[list[int]], config: GenerationConfig, batch: int
) -> Output:
    """Plain `transformers.generate` on the backend's model with its usual projections (the CPU
    `skinny_linear` swap is undone for the call)."""
    model, out = backend.model, []
    restore = _plain_linears(model)
    try:
        with torch.inference_mode():
            for start in range(0, len(encoded), batch):
                chunk = encoded[start : start + batch]
                width = max(len(ids) for ids in chunk)
                ids = torch.tensor([[backend.pad_token_id] * (width - len(s)) + s for s in chunk])
                mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in chunk])
                generated = model.generate(
                    input_ids=ids.to(backend.device),
                    attention_mask=mask.to(backend.device),
                    max_new_tokens=config.max_new_tokens,
                    do_sample=False,
                    eos_token_id=list(backend.eos_token_ids),
                    pad_token_id=backend.pad_token_id,
                )
                out += [_until_eos(row[width:].tolist(), backend) for row in generated]
    finally:
        restore()
    return _texts(backend, out)


def run_generate_batch(
    backend: HFBackend, encoded: list[list[int]], config: GenerationConfig, batch: int
) -> Output:
    from transformers import GenerationConfig as HFGenerationConfig

    restore = _plain_linears(backend.model)
    try:
        settings = HFGenerationConfig(
            max_new_tokens=config.max_new_tokens,
            do_sample=False,
            eos_token_id=list(backend.eos_token_ids),
            pad_token_id=backend.pad_token_id,
        )
        with torch.inference_mode():
            results = backend.model.generate_batch(inputs=encoded, generation_config=settings)
    finally:
        restore()
    ordered = sorted(results.values(), key=lambda r: int(str(r.request_id).rsplit("_", 1)[-1]))
    return _texts(backend, [_until_eos(list(r.generated_tokens), backend) for r in ordered])


def run_vllm(
    backend: HFBackend, model_dir: Path, encoded: list[list[int]], config: GenerationConfig, dtype: str
) -> Output:
    from vllm import LLM, SamplingParams, TokensPrompt

    llm = LLM(model=str(model_dir), dtype=dtype, enable_prefix_caching=True)
    params = SamplingParams(temperature=0.0, max_tokens=config.max_new_tokens)
    start = time.perf_counter()  # the engine's start is not generation: time from here
    outputs = llm.generate([TokensPrompt(prompt_token_ids=ids) for ids in encoded], params, use_tqdm=False)
    run_vllm.seconds = time.perf_counter() - start  # type: ignore[attr-defined]
    return _texts(backend, [_until_eos(list(o.outputs[0].token_ids), backend) for o in outputs])


def _until_eos(tokens: list[int], backend: HFBackend) -> list[int]:
    for position, token in enumerate(tokens):
        if token in backend.eos_token_ids:
            return tokens[:position]
    return tokens


def _plain_linears(model: Any) -> Callable[[], None]:
    """The model as transformers ships it while a peer path runs: plain `nn.Linear` forwards and
    stock `sdpa` attention instead of the loop's (`generate_batch` refuses other attention)."""
    swapped = [m for m in model.modules() if type(m) is torch.nn.Linear and "forward" in m.__dict__]
    saved = [m.__dict__.pop("forward") for m in swapped]
    attention = model.config._attn_implementation
    model.set_attn_implementation("sdpa")

    def restore() -> None:
        for module, forward in zip(swapped, saved, strict=True):
            module.forward = forward  # type: ignore[method-assign]
        model.set_attn_implementation(attention)

    return restore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16, help="rows (generate: prompts a call)")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--device", default=None, help="cpu | cuda (default: cuda if any)")
    parser.add_argument("--dtype", default=None, help="float32 | bfloat16 (default: bf16 on cuda)")
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--model-dir", type=Path, default=None, help="default: the embedded SmolLM2")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("FAITHBENCH_DATA_DIR", "../shared/data/gsm8k"))
    )
    args = parser.parse_args()
    model_dir = args.model_dir or smollm2_path()
    backend = HFBackend(str(model_dir), batch_size=args.batch, device=args.device, dtype=args.dtype)
    task = TASKS.get("gsm8k")
    items, _ = task.load(str(args.data_dir), limit=args.items)
    requests = [Request(id=item.id, prompt=task.prompt(item, [])) for item in items]
    encoded = [backend.encode(r.prompt) for r in requests]
    config = GenerationConfig(max_new_tokens=args.max_new_tokens)  # EOS ends a reply; no stop strings
    weight_bytes = sum(p.numel() * p.element_size() for p in backend.model.parameters())
    bandwidth, steps = roofline(backend.device, weight_bytes)
    dtype = str(backend.model.dtype).removeprefix("torch.")

    outputs: dict[str, Output] = {}
    seconds: dict[str, float] = {}
    for path in args.paths:
        try:
            _sync(backend.device)
            start = time.perf_counter()
            if path == "faithbench":
                outputs[path] = run_faithbench(backend, requests, config)
            elif path == "generate":
                outputs[path] = run_generate(backend, encoded, config, args.batch)
            elif path == "generate_batch":
                outputs[path] = run_generate_batch(backend, encoded, config, args.batch)
            else:
                outputs[path] = run_vllm(backend, model_dir, encoded, config, dtype)
            _sync(backend.device)
            seconds[path] = (
                getattr(run_vllm, "seconds", 0.0) if path == "vllm" else time.perf_counter() - start
            )
            print(f"{path}: {seconds[path]:.1f} s", file=sys.stderr)
        except Exception as exc:  # a path that cannot run here says why; the others still count
            print(f"{path}: did not run: {type(exc).__name__}: {exc}", file=sys.stderr)
            traceback.print_exc(limit=3)

    print(
        f"\n{model_dir.name} {dtype} on {backend.device} ({torch.get_num_threads()} CPU threads); "
        f"GSM8K test first {args.items}, zero-shot chat, greedy, <= {args.max_new_tokens} new tokens, "
        f"{args.batch} rows\n"
    )
    print("| path | wall s | tokens | tokens/s | same text as generate |")
    print("|---|--:|--:|--:|--:|")
    peer = outputs.get("generate")
    for path, wall in seconds.items():
        texts, n = outputs[path]
        same = (
            "-"
            if peer is None
            else f"{sum(a == b for a, b in zip(texts, peer[0], strict=True))}/{args.items}"
        )
        print(f"| {path} | {wall:.1f} | {n} | {n / wall:.0f} | {same} |")
    print(
        f"\nroofline: {weight_bytes / 1e6:.0f} MB of weights, memory {bandwidth:.0f} GB/s -> at most "
        f"{steps:.0f} decode steps/s, {steps * args.batch:.0f} tokens/s with {args.batch} rows"
    )


if __name__ == "__main__":
    main()
