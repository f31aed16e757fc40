"""GRPO with faithfulness rewards (`faithbench train grpo --config RECIPE`).

The rewards are the registered metrics (trainers.rewards), weighted by the recipe. `backend: trl`
trains with TRL's GRPOTrainer and a PEFT LoRA adapter. `backend: unsloth` loads the model with
Unsloth's FastLanguageModel instead; Unsloth patches transformers and TRL when it is imported and does
not import at all without a CUDA GPU, so it runs in a process of its own (trainers.unsloth_main) and
only after the CUDA check here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from faithbench.errors import FaithbenchError
from faithbench.harness.runner import utc_now
from faithbench.judges.judge import JudgeConfig, open_judge
from faithbench.specs import AUDIT_METRICS
from faithbench.trainers.common import (
    RunCard,
    default_out,
    finish_training,
    finished_card,
    last_checkpoint,
    lora_config,
    prepare_out,
    trainer_args,
    use_bf16,
)
from faithbench.trainers.data import grpo_rows
from faithbench.trainers.merge import training_base
from faithbench.trainers.recipe import GRPORecipe, JudgeSettings, LoraSettings, load_recipe
from faithbench.trainers.rewards import metric_rewards

# What `target_modules: all-linear` means for Unsloth, which wants the names (Llama-family models).
LLAMA_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def train_grpo(recipe_path: str | Path, out: str | Path | None = None) -> RunCard:
    """Train the recipe's adapter into `out` (finished runs are returned, killed ones resume)."""
    recipe_path = Path(recipe_path)
    recipe = load_recipe(recipe_path, GRPORecipe)
    out = Path(out) if out is not None else default_out("grpo", recipe_path)
    prepare_out(out, recipe)
    if card := finished_card(out):
        return card
    _check_accelerators(recipe)
    if recipe.backend == "unsloth":
        return _unsloth_process(recipe_path, out)
    return run_grpo(recipe, recipe_path, out)


def run_grpo(recipe: GRPORecipe, recipe_path: Path, out: Path, *, unsloth: bool = False) -> RunCard:
    base_spec, base, parents = training_base(recipe.model, out)
    bf16 = use_bf16(recipe.training)
    rows, provenance = grpo_rows(recipe.data)
    with contextlib.ExitStack() as stack:  # a judge (reward) keeps its response cache open while training
        judge = stack.enter_context(open_judge(_judge_config(recipe.judge))) if recipe.judge else None
        rewards, weights = metric_rewards(
            logged_rewards(recipe.rewards),
            max_completion_length=recipe.max_completion_length,
            truncated_reward=recipe.truncated_reward,
            judge=judge,
        )
        model: Any = str(base)
        tokenizer: Any = None
        peft: Any = lora_config(recipe.lora)
        if unsloth:
            model, tokenizer = _unsloth_model(base, recipe, bf16)
            peft = None  # the adapter is already on the model

        import datasets
        from trl import GRPOConfig, GRPOTrainer

        args = trainer_args(out, recipe.training, bf16)
        if unsloth:
            del args["model_init_kwargs"]  # the model is built already
        started, started_at = time.perf_counter(), utc_now()
        trainer = GRPOTrainer(
            model=model,
            processing_class=tokenizer,
            reward_funcs=list[Any](rewards),
            args=GRPOConfig(
                **args,
                num_generations=recipe.num_generations,
                max_completion_length=recipe.max_completion_length,
                temperature=recipe.temperature,
                beta=recipe.beta,
                reward_weights=weights,
                mask_truncated_completions=recipe.mask_truncated_completions,
                use_vllm=recipe.use_vllm,
                vllm_mode=recipe.vllm_mode,
                vllm_server_base_url=recipe.vllm_server_base_url,
                vllm_gpu_memory_utilization=recipe.vllm_gpu_memory_utilization,
                use_transformers_continuous_batching=recipe.use_transformers_continuous_batching,
                cache_implementation=recipe.cache_implementation,
                generation_batch_size=recipe.generation_batch_size,
            ),
            train_dataset=datasets.Dataset.from_list(rows),
            peft_config=peft,
        )
        trainer.train(resume_from_checkpoint=last_checkpoint(out))
        return finish_training(
            trainer, kind="grpo", out=out, recipe_path=recipe_path, recipe=recipe, spec=recipe.model,
            base_spec=base_spec, base=base, parents=parents,
            data=provenance, bf16=bf16, backend=recipe.backend, started=started, started_at=started_at,
        )  # fmt: skip


def logged_rewards(rewards: dict[str, float]) -> dict[str, float]:
    """The recipe's rewards, plus accuracy and the reward-hacking audit's metrics at weight 0 when the
    recipe leaves them out: every GRPO log then shows whether the trained rewards rose with the answers
    and without trivial or unused equations (faithbench.pipeline.audit reads these curves)."""
    watched = {name: 0.0 for name in ("accuracy", *AUDIT_METRICS) if name not in rewards}
    return {**rewards, **watched}


def _check_accelerators(recipe: GRPORecipe) -> None:
    """Fail before any model is loaded when the recipe asks for what this machine lacks."""
    needs = [
        name
        for name, wanted in (("unsloth", recipe.backend == "unsloth"), ("vllm", recipe.use_vllm))
        if wanted
    ]
    if not needs:
        return
    import torch

    if not torch.cuda.is_available():
        raise FaithbenchError(
            f"the recipe asks for {' and '.join(needs)}, which need a CUDA GPU, and there is none here; "
            "use `backend: trl` and `use_vllm: false` on a CPU"
        )
    for name in needs:
        if importlib.util.find_spec(name) is None:
            extra = "unsloth" if name == "unsloth" else "vllm"
            raise FaithbenchError(
                f"the recipe asks for {name}, which is not installed: pip install '.[{extra}]'"
            )


def _unsloth_process(recipe_path: Path, out: Path) -> RunCard:
    result = subprocess.run(
        [sys.executable, "-m", "faithbench.trainers.unsloth_main", str(recipe_path), str(out)], check=False
    )
    card = finished_card(out)
    if result.returncode != 0 or card is None:
        raise FaithbenchError(
            f"the Unsloth training process failed (exit {result.returncode}); see its output above"
        )
    return card


def _unsloth_model(base: Path, recipe: GRPORecipe, bf16: bool) -> tuple[Any, Any]:
    from unsloth import FastLanguageModel

    lora: LoraSettings = recipe.lora
    model, tokenizer = FastLanguageModel.from_pretrained(
        model_name=str(base),
        max_seq_length=recipe.max_completion_length + 512,
        dtype=None if bf16 else "float32",
        load_in_4bit=False,
        fast_inference=recipe.use_vllm,
    )
    model = FastLanguageModel.get_peft_model(
        model,
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=LLAMA_LINEAR if lora.target_modules == "all-linear" else lora.target_modules,
        use_gradient_checkpointing="unsloth" if recipe.training.gradient_checkpointing else False,
        random_state=recipe.training.seed,
    )
    return model, tokenizer


def _judge_config(settings: JudgeSettings) -> JudgeConfig:
    return JudgeConfig(
        spec=settings.spec,
        gold=settings.gold,
        temperature=settings.temperature,
        max_new_tokens=settings.max_new_tokens,
        batch_size=settings.batch_size,
    )
