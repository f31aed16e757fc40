"""The smoke recipes end to end through the CLI: real SmolLM2, real GSM8K, a loadable adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faithbench.cli import main
from faithbench.harness.backends import GenerationConfig, Request, load_backend
from faithbench.tasks.registry import TASKS
from faithbench.trainers.common import RunCard
from faithbench.trainers.recipe import GRPORecipe, load_recipe

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def adapter_answers(card: RunCard) -> str:
    """The adapter loads through the eval model spec and answers a GSM8K prompt."""
    backend = load_backend(card.eval_model_spec)
    item = TASKS.get("gsm8k").load(limit=1)[0][0]
    (completion,) = backend.generate(
        [Request(id=item.id, prompt=TASKS.get("gsm8k").prompt(item))], GenerationConfig(max_new_tokens=8)
    )
    return completion.text


def log_history(out: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (out / "log_history.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_sft_smoke_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sft"
    assert (
        main(["train", "sft", "--config", str(CONFIGS / "sft" / "smollm2-smoke.yaml"), "--out", str(out)])
        == 0
    )
    card = RunCard.model_validate_json((out / "run_card.json").read_bytes())
    assert card.steps == 4 and card.data.n_examples == 8 and not card.bf16
    assert card.eval_model_spec == f"smollm2+lora:{out / 'adapter'}"
    assert f"faithbench eval --model {card.eval_model_spec}" in capsys.readouterr().out
    assert (out / "adapter" / "adapter_config.json").is_file() and (out / "recipe.yaml").is_file()
    losses = [e["loss"] for e in log_history(out) if "loss" in e]
    assert len(losses) == 4 and all(0 < loss < 10 for loss in losses)
    assert adapter_answers(card).strip()
    # A rerun of the same command finds the finished run and trains nothing.
    before = (out / "adapter" / "adapter_model.safetensors").stat().st_mtime_ns
    assert (
        main(["train", "sft", "--config", str(CONFIGS / "sft" / "smollm2-smoke.yaml"), "--out", str(out)])
        == 0
    )
    assert (out / "adapter" / "adapter_model.safetensors").stat().st_mtime_ns == before


@pytest.mark.slow
def test_grpo_smoke_recipe(tmp_path: Path) -> None:
    recipe_path = CONFIGS / "grpo" / "smollm2-smoke.yaml"
    recipe = load_recipe(recipe_path, GRPORecipe)
    out = tmp_path / "grpo"
    assert main(["train", "grpo", "--config", str(recipe_path), "--out", str(out)]) == 0
    steps = [e for e in log_history(out) if "frac_reward_zero_std" in e]
    assert len(steps) == recipe.training.max_steps
    for entry in steps:
        # every reward logged on its own, weight 0 (monitor) included, and the audit's watched metrics
        for metric in (*recipe.rewards, "trivial_equations", "unused_steps"):
            assert f"rewards/{metric}/mean" in entry and f"unscored/{metric}" in entry
        assert 0.0 <= entry["truncated"] <= 1.0
    # The smoke recipe's point: rewards are not all tied, so there is an advantage to learn from.
    assert min(e["frac_reward_zero_std"] for e in steps) < 1.0
    assert max(e["grad_norm"] for e in steps) > 0.0
    card = RunCard.model_validate_json((out / "run_card.json").read_bytes())
    assert card.kind == "grpo" and card.steps == recipe.training.max_steps
    assert adapter_answers(card).strip()
