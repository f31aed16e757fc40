"""Merge a LoRA adapter into its base weights (`faithbench train merge`), and the base a recipe trains on.

A recipe's `model` may name an adapter (`smollm2+lora:DIR`, `hf:PATH+lora:DIR`). The trainer then
merges that adapter into full weights (OUT/base-merged) and trains a *new* LoRA adapter on them,
rather than continuing the old one. Why merge:

- the KL reference of GRPO (`beta > 0`) is the model with the adapter switched off; with a merged
  base that is the SFT model, as in the SFT-then-RL recipes (DeepSeek-R1, open-r1), where continuing
  the adapter would pull the policy back towards the untrained base;
- the new adapter's rank and target modules are the recipe's own, not frozen by the first stage;
- the parent adapter is only read, so it stays byte for byte as it was (tested).

The merged checkpoint is a plain Hugging Face folder that `hf:` loads, with `lineage.json` (base,
adapters, recipes, data) inside; the trained adapter evaluates as `hf:OUT/base-merged+lora:OUT/adapter`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from faithbench.errors import FaithbenchError
from faithbench.harness.lineage import (
    LINEAGE_FILE,
    LORA_SEPARATOR,
    LineageStep,
    checkpoint_lineage,
    model_lineage,
    write_lineage,
)

MERGED_DIR = "base-merged"  # inside a training output folder whose recipe names an adapter


def split_spec(spec: str) -> tuple[str, str | None]:
    """(`smollm2` or `hf:PATH`, the adapter folder or None)."""
    base, sep, adapter = spec.strip().partition(LORA_SEPARATOR)
    if sep and not adapter:
        raise FaithbenchError(f"model {spec!r}: '+lora:' needs an adapter directory after it")
    if LORA_SEPARATOR in adapter:
        raise FaithbenchError(f"model {spec!r}: only one '+lora:' adapter is supported; merge it first")
    return base, adapter or None


def base_path(spec: str) -> Path:
    """The local directory of a base-model spec (`smollm2` or `hf:<path>`)."""
    if spec == "smollm2":
        from faithbench.harness.backends.smollm2 import smollm2_path

        return smollm2_path()
    if spec.startswith("hf:") and Path(spec[3:]).expanduser().is_dir():
        return Path(spec[3:]).expanduser().resolve()
    raise FaithbenchError(f"model {spec!r}: use smollm2 or hf:<local model directory>, optionally +lora:DIR")


def is_merged(folder: Path, spec: str) -> bool:
    """`folder` is a finished merge of exactly `spec` (its lineage names the same adapter contents)."""
    if not (folder / LINEAGE_FILE).is_file() or not (folder / "config.json").is_file():
        return False
    steps = checkpoint_lineage(folder)
    return steps[:-1] == _parents(spec) and steps[-1].kind == "merge"


def merge_adapter(spec: str, out: Path) -> Path:
    """Write `spec`'s adapter merged into its base as a checkpoint at `out` (float32 weights, the
    adapter's tokenizer when it saved one); atomic: a killed merge leaves no half-written folder.
    A finished merge of the same spec at `out` is kept; anything else there is refused."""
    base, adapter = split_spec(spec)
    if adapter is None:
        raise FaithbenchError(f"model {spec!r}: nothing to merge (give BASE+lora:ADAPTER_DIR)")
    out = out.expanduser()
    if is_merged(out, spec):
        return out
    if out.exists() and any(out.iterdir()):
        raise FaithbenchError(f"{out} exists and is not a merge of {spec}; use another --out")
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from faithbench.harness.backends.hf import check_adapter_dir, fingerprint_dir

    check_adapter_dir(adapter)
    source = base_path(base)
    model = AutoModelForCausalLM.from_pretrained(str(source), dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    tokenizer_dir = adapter if (Path(adapter) / "tokenizer_config.json").is_file() else str(source)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(str(tmp), safe_serialization=True)
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(str(tmp))
    step = LineageStep(kind="merge", path=str(out.resolve()), fingerprint=fingerprint_dir(tmp))
    write_lineage(tmp, [*_parents(spec), step])
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.rmdir()  # empty, checked above
    tmp.rename(out)
    return out


def _parents(spec: str) -> list[LineageStep]:
    """The lineage of `spec` with the adapter's fingerprint filled in (what a merge of it starts from)."""
    from faithbench.harness.backends.hf import fingerprint_dir

    steps = model_lineage(spec) or []
    _, adapter = split_spec(spec)
    if adapter and steps and steps[-1].fingerprint is None:
        steps[-1] = steps[-1].model_copy(update={"fingerprint": fingerprint_dir(Path(adapter).expanduser())})
    return steps


def training_base(spec: str, out: Path) -> tuple[str, Path, list[LineageStep]]:
    """What a recipe's `model` trains on: (the base's spec for eval, its folder, its lineage). An
    adapter spec is merged into OUT/base-merged first (see the module docstring)."""
    from faithbench.harness.backends.hf import fingerprint_dir

    base, adapter = split_spec(spec)
    if adapter is None:
        path = base_path(base)
        steps = model_lineage(base) or [LineageStep(kind="base", path=base)]
        steps[-1] = steps[-1].model_copy(update={"fingerprint": fingerprint_dir(path)})
        return base, path, steps
    merged = merge_adapter(spec, out / MERGED_DIR).resolve()
    return f"hf:{merged}", merged, checkpoint_lineage(merged)
