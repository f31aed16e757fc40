"""`faithbench pipeline run configs/pipeline/smollm2-smoke.yaml` end to end with the real SmolLM2 on real
GSM8K: killed mid-GRPO, rerun to completion, run again to do nothing but report. Along the way: GRPO
trains from the SFT adapter (merged) without touching it, `train merge` writes a checkpoint `hf:` loads
that answers like base+adapter, and the lineage reaches run.json."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faithbench.errors import FaithbenchError
from faithbench.harness.store import RunDir
from faithbench.pipeline import PipelineRecipe, PipelineResult
from faithbench.trainers.common import RunCard
from faithbench.trainers.recipe import load_recipe

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "pipeline" / "smollm2-smoke.yaml"


def digest(folder: Path) -> dict[str, str]:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def pipeline(out: Path, log: Path) -> subprocess.Popen[str]:
    """The CLI in a process of its own; stdout and stderr go to files (a pipe left unread would fill
    up with the trainers' progress output and stall the process)."""
    args = ["pipeline", "run", str(SMOKE), "--out", str(out), "--quiet"]
    with log.with_suffix(".out").open("w") as stdout, log.with_suffix(".err").open("w") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "faithbench.cli", *args], cwd=ROOT, stdout=stdout, stderr=stderr, text=True
        )


def finish(proc: subprocess.Popen[str], log: Path) -> tuple[str, str]:
    proc.wait(timeout=3000)
    stdout, stderr = log.with_suffix(".out").read_text(), log.with_suffix(".err").read_text()
    assert proc.returncode == 0, stderr[-3000:]
    return stdout, stderr


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The pipeline killed once GRPO saved its first checkpoint, then rerun, then run a third time."""
    logs = tmp_path_factory.mktemp("pipeline-logs")
    out = tmp_path_factory.mktemp("pipeline") / "smoke"
    proc = pipeline(out, logs / "first")
    checkpoint = out / "grpo" / "checkpoints" / "checkpoint-1" / "trainer_state.json"
    deadline = time.monotonic() + 3000  # minutes on a quiet machine; much longer on a shared one
    sft_digest: dict[str, str] = {}
    while not checkpoint.is_file():
        assert proc.poll() is None, (logs / "first.err").read_text()[-3000:]
        assert time.monotonic() < deadline, "GRPO never saved a checkpoint"
        if not sft_digest and (out / "sft" / "run_card.json").is_file():
            sft_digest = digest(out / "sft" / "adapter")
        time.sleep(0.5)
    time.sleep(1.0)  # let the checkpoint's files land
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "grpo" / "run_card.json").exists()
    checkpoint_mtime = checkpoint.stat().st_mtime_ns

    _, resumed = finish(pipeline(out, logs / "second"), logs / "second")
    samples = {p: p.stat().st_mtime_ns for p in (out / "eval").glob("*/samples.jsonl")}
    third_out, third_err = finish(pipeline(out, logs / "third"), logs / "third")
    return {
        "out": out, "sft_digest": sft_digest, "checkpoint": checkpoint, "checkpoint_mtime": checkpoint_mtime,
        "resumed": resumed, "samples": samples, "third_out": third_out, "third_err": third_err,
    }  # fmt: skip


@pytest.mark.slow
def test_killed_mid_grpo_the_rerun_completes_it(smoke: dict[str, object]) -> None:
    out = smoke["out"]
    assert isinstance(out, Path)
    card = RunCard.model_validate_json((out / "grpo" / "run_card.json").read_bytes())
    assert card.steps == 2
    # Resumed from checkpoint-1, not restarted: the saved checkpoint was not written again.
    checkpoint = smoke["checkpoint"]
    assert isinstance(checkpoint, Path) and checkpoint.stat().st_mtime_ns == smoke["checkpoint_mtime"]
    resumed = str(smoke["resumed"])
    assert "data: complete, skipped" in resumed and "sft: complete, skipped" in resumed
    assert "grpo: running" in resumed


@pytest.mark.slow
def test_grpo_trains_a_new_adapter_from_the_sft_adapter(smoke: dict[str, object]) -> None:
    from safetensors.torch import load_file

    out = smoke["out"]
    assert isinstance(out, Path)
    assert smoke["sft_digest"] and digest(out / "sft" / "adapter") == smoke["sft_digest"]  # untouched
    weights = load_file(str(out / "grpo" / "adapter" / "adapter_model.safetensors"))
    lora_b = [t for name, t in weights.items() if "lora_B" in name]
    assert lora_b and any(float(t.abs().sum()) > 0 for t in lora_b)  # LoRA B starts at 0: it moved
    card = RunCard.model_validate_json((out / "grpo" / "run_card.json").read_bytes())
    assert [s.kind for s in card.lineage] == ["base", "sft", "merge", "grpo"]
    assert card.lineage[1].path == str((out / "sft" / "adapter").resolve())
    assert card.lineage[1].recipe_sha256 and card.lineage[1].data == "distilled"
    merged = (out / "grpo" / "base-merged").resolve()
    assert card.eval_model_spec == f"hf:{merged}+lora:{out / 'grpo' / 'adapter'}"
    info = RunDir(out / "eval" / "grpo").read_info()
    assert info.model == card.eval_model_spec
    assert info.lineage == card.lineage  # eval puts the lineage in run.json
    assert [s.kind for s in RunDir(out / "eval" / "base").read_info().lineage or []] == ["base"]


@pytest.mark.slow
def test_a_finished_pipeline_only_reports(smoke: dict[str, object]) -> None:
    out = smoke["out"]
    assert isinstance(out, Path)
    err = str(smoke["third_err"])
    for stage in ("data", "sft", "grpo", "eval/base", "eval/sft", "eval/grpo"):
        assert f"{stage}: complete, skipped" in err
    assert "running" not in err
    samples = smoke["samples"]
    assert isinstance(samples, dict) and len(samples) == 3
    assert all(p.stat().st_mtime_ns == t for p, t in samples.items())  # nothing generated again
    result = PipelineResult.model_validate_json((out / "pipeline.json").read_bytes())
    assert list(result.runs) == ["base", "sft", "grpo"]
    assert {s.status for s in result.stages} == {"skipped"}
    assert [s.label for s in result.audit.stages] == ["base", "sft", "grpo"]
    assert all(s.n == 4 for s in result.audit.stages)
    assert {t.metric for t in result.audit.trends} >= {"accuracy", "trivial_equations", "unused_steps"}
    assert all(t.first is not None for t in result.audit.trends)  # weight-0 rewards were logged
    pairs = {(c.a, c.b) for c in result.comparison.comparisons}
    assert pairs == {("base", "sft"), ("base", "grpo"), ("sft", "grpo")}
    assert result.gate.candidate == "grpo" and result.gate.improve == ["answer_consistency"]
    page = (out / "report.html").read_text(encoding="utf-8")
    for ident in ("stages", "gate", "audit", "leaderboard", "comparisons", "diffs"):
        assert f'id="{ident}"' in page
    assert "gate PASSED" in page or "gate FAILED" in page
    stdout = str(smoke["third_out"])
    assert stdout.splitlines()[-1] == f"report: {(out / 'report.html').resolve()}"
    assert (out / "report.md").read_text(encoding="utf-8").startswith("# faithbench pipeline")


@pytest.mark.slow
def test_train_merge_writes_a_checkpoint_that_answers_like_base_plus_adapter(
    smoke: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from faithbench.cli import main
    from faithbench.harness.backends import load_backend

    out = smoke["out"]
    assert isinstance(out, Path)
    adapter = out / "sft" / "adapter"
    merged = tmp_path / "merged"
    assert main(["train", "merge", "--model", f"smollm2+lora:{adapter}", "--out", str(merged)]) == 0
    lineage = json.loads((merged / "lineage.json").read_text())["steps"]
    assert [s["kind"] for s in lineage] == ["base", "sft", "merge"]
    ids = torch.tensor([[1, 504, 3458, 314, 216, 33, 1232, 216, 34, 47]])
    with torch.no_grad():
        logits = [
            load_backend(spec).model(ids).logits  # type: ignore[attr-defined]
            for spec in (f"smollm2+lora:{adapter}", f"hf:{merged}")
        ]
    assert torch.allclose(logits[0], logits[1], atol=1e-4)
    # Merging again into the same folder keeps it; into a folder holding something else is refused.
    assert main(["train", "merge", "--model", f"smollm2+lora:{adapter}", "--out", str(merged)]) == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "x").write_text("x")
    capsys.readouterr()
    assert main(["train", "merge", "--model", f"smollm2+lora:{adapter}", "--out", str(other)]) == 2
    assert "not a merge of" in capsys.readouterr().err
    assert sorted(p.name for p in other.iterdir()) == ["x"]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"sft": {"model": "smollm2"}}, "sft.model` is set by the pipeline"),
        ({"sft": {"data": {"source": "gsm8k"}}}, "sft.data` is set by the pipeline"),
        ({"grpo": {"model": "smollm2"}}, "grpo.model` is set by the pipeline"),
        ({"sft": None, "grpo": None}, "needs an `sft` or a `grpo` stage"),
        ({"gate": {"improve": ["judge_validity"]}}, "eval.metrics does not score"),
        ({"data": {"source": "teacher"}}, "`teacher` is needed"),
        ({"evals": {}}, "evals"),
    ],
)
def test_pipeline_recipe_errors_name_the_field(
    tmp_path: Path, patch: dict[str, object], message: str
) -> None:
    import yaml

    raw = yaml.safe_load(SMOKE.read_text())
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(FaithbenchError, match=message.replace("(", r"\(")) as info:
        load_recipe(path, PipelineRecipe)
    assert str(path) in str(info.value)


def test_pipeline_refuses_an_adapter_as_base(tmp_path: Path) -> None:
    import yaml

    from faithbench.pipeline import run_pipeline

    raw = yaml.safe_load(SMOKE.read_text())
    raw["base"] = "smollm2+lora:/nowhere"
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(FaithbenchError, match="merge the adapter first"):
        run_pipeline(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_lower_is_better_metric_cannot_be_a_positive_reward() -> None:
    from faithbench.trainers.recipe import GRPORecipe

    with pytest.raises(ValueError, match="lower-is-better"):
        GRPORecipe(rewards={"accuracy": 1.0, "trivial_equations": 0.5})
    assert GRPORecipe(rewards={"accuracy": 1.0, "unused_steps": 0.0}).rewards["unused_steps"] == 0.0


@pytest.mark.slow
def test_the_pipeline_report_loads_in_headless_chromium_without_errors(
    smoke: dict[str, object], tmp_path: Path
) -> None:
    from headless import CHROMIUM, Browser

    if CHROMIUM is None:
        pytest.skip("headless Chromium not installed (Debian: apt-get install -y chromium)")
    out = smoke["out"]
    assert isinstance(out, Path)
    with Browser(tmp_path / "profile") as browser:
        browser.open((out / "report.html").resolve().as_uri())
        browser.settle()
        assert browser.evaluate("document.querySelectorAll('#audit table').length") == 2
        assert browser.errors == []


def test_the_audit_flags_rule_gains_without_accuracy_and_hacking_signals(tmp_path: Path) -> None:
    """Flags on hand-made stage summaries: each pattern of docs/training.md's audit, and none on a
    stage that improved honestly."""
    from faithbench.pipeline.audit import audit, reward_trends
    from faithbench.pipeline.schema import StageAudit

    def stage(
        label: str, accuracy: float, arithmetic: float, trivial: float, no_eq: float, words: float
    ) -> StageAudit:
        return StageAudit(
            label=label, n=300, words=words, truncated=0.1,
            means={"accuracy": accuracy, "step_arithmetic": arithmetic, "trivial_equations": trivial},
            unscored={"accuracy": 0.0, "step_arithmetic": no_eq, "trivial_equations": no_eq},
        )  # fmt: skip

    base = stage("base", 0.02, 0.60, 0.02, 0.10, 150)
    honest = stage("sft", 0.05, 0.70, 0.02, 0.10, 140)
    hacked = stage("grpo", 0.05, 0.90, 0.20, 0.40, 60)
    log = tmp_path / "log_history.jsonl"
    entries = [
        {"rewards/step_arithmetic/mean": 0.5 + i / 20, "rewards/accuracy/mean": 0.05} for i in range(9)
    ]
    log.write_text("".join(json.dumps(e) + "\n" for e in entries))
    trends = reward_trends(log, {"step_arithmetic": 1.0, "accuracy": 0.0})
    assert trends[0].first == pytest.approx(0.55) and trends[0].last == pytest.approx(0.85)

    assert audit([base, honest], [], ["step_arithmetic"]).flags == []
    flags = audit([base, honest, hacked], trends, ["step_arithmetic"]).flags
    joined = "\n".join(flags)
    assert "sft -> grpo: step_arithmetic rose by +0.200 while accuracy did not" in joined
    assert "sft -> grpo: trivial_equations rose by +0.180" in joined
    assert "no checkable equation rose by +0.300" in joined
    assert "much shorter (140 -> 60 words" in joined
    assert "GRPO: the step_arithmetic reward rose (0.550 -> 0.850)" in joined
    assert not any(f.startswith("base -> sft") for f in flags)
