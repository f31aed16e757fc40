"""Trainer recipes: typed, documented configs read from YAML (configs/sft/*.yaml, configs/grpo/*.yaml).

Unknown keys are errors (a typo must not silently fall back to a default), and every error names the
file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from faithbench.errors import FaithbenchError, where

R = TypeVar("R", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSettings(Strict):
    source: Literal["gsm8k", "distilled"] = Field(
        "gsm8k",
        description="gsm8k: GSM8K references of `split` (calculator annotations removed, `#### N` last); "
        "distilled: the kept traces of a `faithbench distill --out` folder given as `path`.",
    )
    split: str = Field("train", description="GSM8K split for source gsm8k.")
    path: str | None = Field(None, description="the distill output folder, for source distilled.")
    limit: int | None = Field(None, ge=1, description="use only the first N examples.")
    task: str = Field(
        "gsm8k",
        description="the task whose prompt the model is trained on: train on the prompt you evaluate.",
    )
    data_dir: str | None = Field(
        None, description="GSM8K folder (default: $FAITHBENCH_DATA_DIR, else the hub)."
    )

    @model_validator(mode="after")
    def _path_for_distilled(self) -> DataSettings:
        if self.source == "distilled" and not self.path:
            raise ValueError("source 'distilled' needs `path`: the folder `faithbench distill --out` wrote")
        if self.source == "gsm8k" and self.path:
            raise ValueError("`path` is only for source 'distilled'")
        return self


class LoraSettings(Strict):
    r: int = Field(8, ge=1, description="LoRA rank.")
    alpha: int = Field(16, ge=1, description="LoRA scaling numerator (scale = alpha / r).")
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: str | list[str] = Field(
        "all-linear", description="'all-linear' or a list of module names (q_proj, v_proj, ...)."
    )


class TrainingSettings(Strict):
    """The subset of transformers' TrainingArguments a recipe may set; the rest keep TRL's defaults."""

    max_steps: int = Field(-1, description="stop after this many optimiser steps (-1: run the epochs).")
    num_train_epochs: float = Field(1.0, gt=0)
    learning_rate: float = Field(2e-4, gt=0)
    lr_scheduler_type: str = "linear"
    warmup_steps: float = Field(
        0,
        ge=0,
        description="linear warm-up: a number of steps, or a float in [0, 1) for a share of all steps.",
    )
    per_device_train_batch_size: int = Field(2, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    gradient_checkpointing: bool = False
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(
        50, ge=1, description="checkpoint every N steps; a rerun resumes from the last one."
    )
    seed: int = 0
    bf16: bool | Literal["auto"] = Field(
        "auto", description="auto: bf16 on a CUDA GPU that supports it, float32 elsewhere (CPUs refuse bf16)."
    )


class SFTRecipe(Strict):
    description: str = ""
    model: str = Field(
        "smollm2",
        description="what to train on: smollm2 or hf:<path>, optionally +lora:<adapter dir> (merged into "
        "OUT/base-merged first, then a new adapter is trained: see faithbench.trainers.merge).",
    )
    data: DataSettings = DataSettings()
    lora: LoraSettings = LoraSettings()
    training: TrainingSettings = TrainingSettings()
    max_length: int = Field(512, ge=16, description="prompt + completion tokens; longer examples are cut.")


class JudgeSettings(Strict):
    """The rubric judge whose ratings may be rewards (`judge_validity`, ...); see docs/judges.md."""

    spec: str = Field(description="the judge's model spec, e.g. deepseek:deepseek-chat or smollm2.")
    gold: bool = Field(True, description="show the judge the gold answer.")
    temperature: float = Field(0.0, ge=0)
    max_new_tokens: int = Field(256, ge=1, description="upper bound on a verdict's tokens.")
    batch_size: int = Field(8, ge=1, description="verdicts asked for at a time.")


class GRPORecipe(Strict):
    description: str = ""
    model: str = Field(
        "smollm2",
        description="what to train on: smollm2 or hf:<path>, optionally +lora:<adapter dir> (merged into "
        "OUT/base-merged first, then a new adapter is trained: see faithbench.trainers.merge).",
    )
    backend: Literal["trl", "unsloth"] = Field(
        "trl", description="unsloth: Unsloth's FastLanguageModel, CUDA only, run in a process of its own."
    )
    # Generation is nearly all of a GRPO step; these pick TRL's generation path (docs/speed.md has
    # seconds per step for each).
    use_vllm: bool = Field(False, description="generate with vLLM (needs a CUDA GPU and vllm).")
    vllm_mode: Literal["colocate", "server"] = Field(
        "colocate",
        description="use_vllm: colocate runs the engine inside the training process, on a share of the GPU "
        "(vllm_gpu_memory_utilization); server sends requests to a `trl vllm-serve` process.",
    )
    vllm_server_base_url: str | None = Field(
        None, description="vllm_mode server: the server's URL (default: TRL's http://0.0.0.0:8000)."
    )
    vllm_gpu_memory_utilization: float = Field(
        0.3, gt=0, le=1, description="vllm_mode colocate: the share of GPU memory the engine takes."
    )
    use_transformers_continuous_batching: bool = Field(
        False, description="generate with transformers' continuous batching engine (paged attention) "
        "instead of model.generate; no extra package.",
    )  # fmt: skip
    cache_implementation: str | None = Field(
        None, description="model.generate's KV cache (e.g. static); None: transformers' default (dynamic)."
    )
    generation_batch_size: int | None = Field(
        None, ge=1, description="completions generated at once (a multiple of num_generations); None: one "
        "training batch per step. Larger batches generate for several steps at a time.",
    )  # fmt: skip
    data: DataSettings = DataSettings()
    lora: LoraSettings = LoraSettings()
    training: TrainingSettings = TrainingSettings(learning_rate=1e-5)
    rewards: dict[str, float] = Field(
        default_factory=lambda: {
            "accuracy": 1.0,
            "format_compliance": 0.5,
            "step_arithmetic": 0.5,
            "answer_consistency": 0.5,
            "number_grounding": 0.25,
        },
        description="metric name -> weight; weight 0 logs a metric without training on it.",
    )
    num_generations: int = Field(4, ge=2, description="completions per prompt (a group).")
    max_completion_length: int = Field(256, ge=8)
    temperature: float = Field(1.0, gt=0)
    beta: float = Field(0.0, ge=0, description="KL coefficient (0: no reference model is kept).")
    truncated_reward: float | None = Field(
        None, description="fixed reward for completions cut at max_completion_length (None: score them)."
    )
    mask_truncated_completions: bool = Field(
        False, description="leave truncated completions out of the loss."
    )
    judge: JudgeSettings | None = Field(
        None, description="an LLM judge; needed when `rewards` names judge_validity/coherence/alignment."
    )

    @model_validator(mode="after")
    def _rewards(self) -> GRPORecipe:
        if not self.rewards:
            raise ValueError("`rewards` needs at least one metric")
        if any(w < 0 for w in self.rewards.values()):
            raise ValueError("reward weights must be >= 0")
        if not any(w > 0 for w in self.rewards.values()):
            raise ValueError("at least one reward needs a weight > 0, or nothing is learned")
        from faithbench.specs import spec_of

        backwards = [
            n for n, w in self.rewards.items() if w > 0 and (s := spec_of(n)) and not s.higher_is_better
        ]
        if backwards:
            raise ValueError(
                f"rewards {backwards} are lower-is-better (a reward would pay for what they catch); "
                "give them weight 0 to log them"
            )
        judged = [name for name in self.rewards if name.startswith("judge_")]
        if judged and self.judge is None:
            raise ValueError(f"rewards {judged} need a `judge:` (spec of the judge model)")
        return self

    @model_validator(mode="after")
    def _generation_path(self) -> GRPORecipe:
        if self.use_vllm and self.use_transformers_continuous_batching:
            raise ValueError(
                "use_vllm and use_transformers_continuous_batching are two generation paths; pick one"
            )
        if self.vllm_server_base_url and not (self.use_vllm and self.vllm_mode == "server"):
            raise ValueError("vllm_server_base_url is for use_vllm with vllm_mode: server")
        if self.generation_batch_size is not None and self.generation_batch_size % self.num_generations:
            raise ValueError(
                f"generation_batch_size ({self.generation_batch_size}) must be a multiple of num_generations "
                f"({self.num_generations}): each prompt's group is generated together"
            )
        return self


def load_recipe(path: str | Path, model: type[R]) -> R:
    """Read and validate a YAML recipe; errors name the file, the line (YAML) or the field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FaithbenchError(f"{path}: no such recipe file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise FaithbenchError(f"{where(path, line)}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, dict):
        raise FaithbenchError(f"{path}: a recipe is a YAML mapping of fields, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in e['loc'])!r}: {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors()
        )
        raise FaithbenchError(f"{path}: {problems}") from None


def dump_recipe(recipe: BaseModel) -> str:
    """The resolved recipe (every default filled in) as YAML, as written next to the adapter."""
    return yaml.safe_dump(recipe.model_dump(mode="json"), sort_keys=False)
