"""LoRA supervised fine-tuning with TRL's SFTTrainer (`faithbench train sft --config RECIPE`).

Examples are prompt-completion chat pairs with the eval prompt (trainers.data), so the loss covers the
completion only and the adapter learns to answer the prompt it is evaluated on.
"""

from __future__ import annotations

import time
from pathlib import Path

from faithbench.harness.runner import utc_now
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
from faithbench.trainers.data import sft_rows
from faithbench.trainers.merge import training_base
from faithbench.trainers.recipe import SFTRecipe, load_recipe


def train_sft(recipe_path: str | Path, out: str | Path | None = None) -> RunCard:
    """Train the recipe's LoRA adapter into `out`; a finished run there is returned as it is, a killed
    one resumes from its last checkpoint."""
    recipe_path = Path(recipe_path)
    recipe = load_recipe(recipe_path, SFTRecipe)
    out = Path(out) if out is not None else default_out("sft", recipe_path)
    prepare_out(out, recipe)
    if card := finished_card(out):
        return card
    base_spec, base, parents = training_base(recipe.model, out)
    bf16 = use_bf16(recipe.training)
    rows, provenance = sft_rows(recipe.data)

    import datasets
    from trl import SFTConfig, SFTTrainer

    started, started_at = time.perf_counter(), utc_now()
    trainer = SFTTrainer(
        model=str(base),
        args=SFTConfig(
            **trainer_args(out, recipe.training, bf16),
            max_length=recipe.max_length,
            completion_only_loss=True,
            dataset_num_proc=None,
        ),
        train_dataset=datasets.Dataset.from_list(rows),
        peft_config=lora_config(recipe.lora),
    )
    trainer.train(resume_from_checkpoint=last_checkpoint(out))
    return finish_training(
        trainer, kind="sft", out=out, recipe_path=recipe_path, recipe=recipe, spec=recipe.model,
            base_spec=base_spec, base=base, parents=parents,
        data=provenance, bf16=bf16, backend="trl", started=started, started_at=started_at,
    )  # fmt: skip
