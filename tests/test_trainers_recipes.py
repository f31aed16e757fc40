"""Recipes, training data and the distillation filter (no model loaded)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from faithbench.errors import FaithbenchError
from faithbench.tasks.registry import TASKS
from faithbench.trainers.common import prepare_out
from faithbench.trainers.data import grpo_rows, reference_completion, sft_rows
from faithbench.trainers.distill import DistilledTrace, FilterConfig, filter_traces
from faithbench.trainers.grpo import train_grpo
from faithbench.trainers.recipe import DataSettings, GRPORecipe, SFTRecipe, load_recipe

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("path", sorted((CONFIGS / "sft").glob("*.yaml")), ids=lambda p: p.name)
def test_sft_recipes_load(path: Path) -> None:
    assert load_recipe(path, SFTRecipe).lora.r >= 1


@pytest.mark.parametrize("path", sorted((CONFIGS / "grpo").glob("*.yaml")), ids=lambda p: p.name)
def test_grpo_recipes_load(path: Path) -> None:
    assert load_recipe(path, GRPORecipe).rewards


def test_accelerate_configs_are_yaml_mappings() -> None:
    paths = sorted((CONFIGS / "accelerate").glob("*.yaml"))
    assert {p.stem for p in paths} >= {"multi-gpu", "deepspeed-zero2", "deepspeed-zero3"}
    for path in paths:
        config = yaml.safe_load(path.read_text())
        assert config["distributed_type"] in ("MULTI_GPU", "DEEPSPEED"), path


def test_shipped_filter_is_the_default() -> None:
    assert load_recipe(CONFIGS / "distill" / "faithful.yaml", FilterConfig) == FilterConfig()


@pytest.mark.parametrize(
    ("text", "message", "kind"),
    [
        (
            "model: smollm2\ntrainig:\n  max_steps: 2\n",
            "field 'trainig': Extra inputs are not permitted",
            SFTRecipe,
        ),
        ("training:\n  learning_rate: fast\n", "field 'training.learning_rate'", SFTRecipe),
        ("data:\n  source: distilled\n", "needs `path`", SFTRecipe),
        ("model: [unclosed\n", "bad.yaml:2: invalid YAML", SFTRecipe),
        ("- a list\n", "a recipe is a YAML mapping", SFTRecipe),
        # GRPO's generation path
        ("use_vllm: true\nuse_transformers_continuous_batching: true\n", "two generation paths", GRPORecipe),
        ("vllm_server_base_url: http://localhost:8000\n", "for use_vllm with vllm_mode: server", GRPORecipe),
        (
            "num_generations: 4\ngeneration_batch_size: 6\n",
            "must be a multiple of num_generations",
            GRPORecipe,
        ),
        ("use_vllm: true\nvllm_mode: remote\n", "field 'vllm_mode'", GRPORecipe),
        ("vllm_gpu_memory_utilization: 1.5\n", "field 'vllm_gpu_memory_utilization'", GRPORecipe),
    ],
)
def test_recipe_errors_name_file_and_field(
    tmp_path: Path, text: str, message: str, kind: type[SFTRecipe] | type[GRPORecipe]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(FaithbenchError) as err:
        load_recipe(path, kind)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


def test_grpo_generation_settings_reach_trl(tmp_path: Path) -> None:
    """Every generation field of the recipe is a GRPOConfig field of the installed TRL, by the same name."""
    from dataclasses import fields

    from trl import GRPOConfig

    names = {f.name for f in fields(GRPOConfig)}
    ours = {
        "use_vllm", "vllm_mode", "vllm_server_base_url", "vllm_gpu_memory_utilization",
        "use_transformers_continuous_batching", "cache_implementation", "generation_batch_size",
    }  # fmt: skip
    assert ours <= set(GRPORecipe.model_fields) and ours <= names
    path = tmp_path / "ok.yaml"
    path.write_text("use_transformers_continuous_batching: true\ngeneration_batch_size: 8\n")
    recipe = load_recipe(path, GRPORecipe)
    assert recipe.use_transformers_continuous_batching and recipe.generation_batch_size == 8


def test_grpo_recipe_needs_a_positive_weight(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("rewards:\n  accuracy: 0\n")
    with pytest.raises(FaithbenchError, match="weight > 0"):
        load_recipe(path, GRPORecipe)


def test_references_lose_annotations_and_end_with_the_answer(data_dir: Path) -> None:
    rows, provenance = sft_rows(DataSettings(limit=200, data_dir=str(data_dir)))
    assert provenance.n_examples == 200 and provenance.source == "gsm8k/train"
    for row in rows:
        text = row["completion"][0]["content"]
        assert "<<" not in text and ">>" not in text
        assert text.splitlines()[-1].startswith("#### ")
    assert reference_completion("48/2 = <<48/2=24>>24 clips.\n#### 72") == "48/2 = 24 clips.\n#### 72"


def test_training_prompts_are_the_eval_prompts(data_dir: Path) -> None:
    data = DataSettings(limit=3, data_dir=str(data_dir))
    (sft, _), (grpo, _) = sft_rows(data), grpo_rows(data)
    items, _ = TASKS.get("gsm8k-train").load(str(data_dir), 3)
    for item, s, g in zip(items, sft, grpo, strict=True):
        expected = [{"role": r, "content": c} for r, c in TASKS.get("gsm8k").prompt(item).messages or ()]
        assert s["prompt"] == g["prompt"] == expected
        assert (g["question"], g["target"], g["id"]) == (item.question, item.target, item.id)


def trace(id: str, question: str, **scores: float | None) -> DistilledTrace:
    return DistilledTrace(
        id=id, question=question, target="1", completion=f"trace {id}", reasoning=None, answer="1",
        scores=scores, teacher="t", teacher_identity="t", task="gsm8k-train", prompt_sha256="p",
        completion_sha256="c", data_sha256="d", faithbench_version="0",
    )  # fmt: skip


def test_filter_report_adds_up() -> None:
    rules = FilterConfig(require={"accuracy": 1.0, "number_grounding": 0.8})
    traces = [
        trace("a", "Q one", accuracy=1.0, number_grounding=0.9),
        trace("b", "q  ONE", accuracy=1.0, number_grounding=1.0),  # same question, whitespace and case
        trace("c", "Q two", accuracy=0.0, number_grounding=0.5),  # fails both: counted once, first rule
        trace("d", "Q three", accuracy=1.0, number_grounding=None),
        trace("e", "Q four", accuracy=1.0, number_grounding=0.8),
    ]
    kept, dropped = filter_traces(traces, rules)
    assert [t.id for t in kept] == ["a", "e"]
    assert dropped == {"duplicate": ["b"], "accuracy < 1": ["c"], "number_grounding unscored": ["d"]}
    assert len(kept) + sum(len(ids) for ids in dropped.values()) == len(traces)
    kept, dropped = filter_traces(traces, rules.model_copy(update={"dedup": "none"}))
    assert [t.id for t in kept] == ["a", "b", "e"]


def test_rerun_with_another_recipe_is_refused(tmp_path: Path) -> None:
    prepare_out(tmp_path, SFTRecipe())
    prepare_out(tmp_path, SFTRecipe())  # the same recipe: resume
    with pytest.raises(FaithbenchError, match="different recipe"):
        prepare_out(tmp_path, SFTRecipe(max_length=64))


@pytest.mark.parametrize("setting", ["backend: unsloth", "use_vllm: true"])
def test_gpu_options_fail_clearly_without_a_gpu(tmp_path: Path, setting: str) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    recipe = tmp_path / "gpu.yaml"
    recipe.write_text(f"{setting}\n")
    with pytest.raises(FaithbenchError, match="need a CUDA GPU"):
        train_grpo(recipe, tmp_path / "out")
    assert not (tmp_path / "out" / "adapter").exists()
