"""The process `backend: unsloth` GRPO runs in: `python -m faithbench.trainers.unsloth_main RECIPE OUT`.

Unsloth must be imported before transformers, TRL and PEFT (it patches them), and only where a CUDA
GPU is (it does not import otherwise): trainers.grpo checks the GPU, then starts this module.
"""

from __future__ import annotations

import sys
from pathlib import Path

import unsloth  # noqa: F401  - first, before anything imports transformers

from faithbench.trainers.grpo import run_grpo
from faithbench.trainers.recipe import GRPORecipe, load_recipe

if __name__ == "__main__":
    recipe_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    run_grpo(load_recipe(recipe_path, GRPORecipe), recipe_path, out, unsloth=True)
