"""What SFT and GRPO runs share: the output folder, the base model, precision, LoRA, the run card.

An output folder holds::

    recipe.yaml       the resolved recipe (every default filled in); a rerun with another recipe is refused
    checkpoints/      TRL checkpoints every `save_steps`; a rerun resumes from the last one
    adapter/          the trained LoRA adapter: `faithbench eval --model <base>+lora:<out>/adapter`
    log_history.jsonl every logged step (loss, rewards/<metric>/mean, frac_reward_zero_std, ...)
    run_card.json     RunCard: what was trained on what, how long, with which versions
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from faithbench.errors import FaithbenchError
from faithbench.harness.backends import LORA_SEPARATOR
from faithbench.harness.lineage import LineageStep
from faithbench.harness.runner import git_hash, package_version, utc_now
from faithbench.harness.store import write_atomic
from faithbench.trainers.data import DataProvenance
from faithbench.trainers.recipe import LoraSettings, TrainingSettings, dump_recipe

RECIPE_FILE = "recipe.yaml"
CARD_FILE = "run_card.json"
ADAPTER_DIR = "adapter"
CHECKPOINTS_DIR = "checkpoints"
LOG_FILE = "log_history.jsonl"


class RunCard(BaseModel):
    kind: Literal["sft", "grpo"]
    recipe: str
    model: str
    model_identity: str
    adapter: str
    eval_model_spec: str  # what to pass to `faithbench eval --model`
    data: DataProvenance
    device: str
    bf16: bool
    backend: str
    steps: int
    train_loss: float | None
    wall_seconds: float
    started_at: str
    finished_at: str
    versions: dict[str, str]
    git_hash: str | None
    # Base first, then every adapter and merge, ending with this run's adapter (harness.lineage);
    # `faithbench eval` copies it into run.json. Empty in cards written before it existed.
    lineage: list[LineageStep] = []


def default_out(kind: str, recipe_path: Path) -> Path:
    """Stable (no timestamp), so that rerunning the same command resumes."""
    return Path("runs") / "train" / f"{kind}-{recipe_path.stem}"


def prepare_out(out: Path, recipe: BaseModel) -> None:
    """Create `out` for `recipe`, or check that it already belongs to the same recipe (resume)."""
    text = dump_recipe(recipe)
    recipe_file = out / RECIPE_FILE
    if recipe_file.is_file() and recipe_file.read_text(encoding="utf-8") != text:
        raise FaithbenchError(
            f"{out} holds a training run of a different recipe (see {recipe_file}); use another --out"
        )
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(recipe_file, text)


def finished_card(out: Path) -> RunCard | None:
    card = out / CARD_FILE
    return RunCard.model_validate_json(card.read_bytes()) if card.is_file() else None


def model_identity(spec: str, path: Path) -> str:
    from faithbench.harness.backends.hf import fingerprint_dir

    return f"{spec}#{fingerprint_dir(path)}"


def use_bf16(training: TrainingSettings) -> bool:
    """bf16 where the hardware has it; `bf16: true` without it is an error, not a crash inside TRL."""
    import torch

    available = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if training.bf16 is True and not available:
        raise FaithbenchError("recipe sets training.bf16: true, but there is no CUDA GPU with bf16 here")
    return available if training.bf16 == "auto" else bool(training.bf16)


def lora_config(lora: LoraSettings) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type="CAUSAL_LM",
    )


def trainer_args(out: Path, training: TrainingSettings, bf16: bool) -> dict[str, Any]:
    """Keyword arguments shared by SFTConfig and GRPOConfig."""
    fields = training.model_dump(exclude={"bf16", "gradient_checkpointing"})
    return {
        **fields,
        "activation_checkpointing": training.gradient_checkpointing,  # transformers 5's name for it
        "output_dir": str(out / CHECKPOINTS_DIR),
        "bf16": bf16,
        "report_to": "none",
        "save_strategy": "steps",
        "save_total_limit": 2,
        "model_init_kwargs": {"dtype": "bfloat16" if bf16 else "float32"},
    }


def last_checkpoint(out: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    folder = out / CHECKPOINTS_DIR
    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


def finish_training(
    trainer: Any,
    *,
    kind: Literal["sft", "grpo"],
    out: Path,
    recipe_path: Path,
    recipe: BaseModel,
    spec: str,
    base_spec: str,
    base: Path,
    parents: list[LineageStep],
    data: DataProvenance,
    bf16: bool,
    backend: str,
    started: float,
    started_at: str,
) -> RunCard:
    """Save the adapter (atomically: a temp folder renamed into place), the log and the run card."""
    adapter = out / ADAPTER_DIR
    tmp = out / f".{ADAPTER_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    trainer.save_model(str(tmp))
    shutil.rmtree(adapter, ignore_errors=True)
    tmp.rename(adapter)
    history = trainer.state.log_history
    write_atomic(out / LOG_FILE, "".join(json.dumps(entry) + "\n" for entry in history))
    losses = [e["train_loss"] for e in history if "train_loss" in e]
    from faithbench.harness.backends.hf import fingerprint_dir

    step = LineageStep(
        kind=kind,
        path=str(adapter.resolve()),
        fingerprint=fingerprint_dir(adapter),
        recipe=str(recipe_path),
        recipe_sha256=hashlib.sha256(dump_recipe(recipe).encode()).hexdigest(),
        data=data.source,
        data_sha256=data.sha256,
    )
    card = RunCard(
        kind=kind,
        recipe=str(recipe_path),
        model=spec,
        model_identity=model_identity(base_spec, base),
        adapter=str(adapter),
        eval_model_spec=f"{base_spec}{LORA_SEPARATOR}{adapter.resolve()}",  # from any directory
        data=data,
        device=str(trainer.args.device),
        bf16=bf16,
        backend=backend,
        steps=trainer.state.global_step,
        train_loss=losses[-1] if losses else None,
        wall_seconds=round(time.perf_counter() - started, 1),
        started_at=started_at,
        finished_at=utc_now(),
        versions={p: package_version(p) for p in ("python", "torch", "transformers", "trl", "peft")},
        git_hash=git_hash(),
        lineage=[*parents, step],
    )
    write_atomic(out / CARD_FILE, card.model_dump_json(indent=2) + "\n")
    return card
