"""End to end with the real SmolLM2-135M-Instruct: eval, resume after a real kill, score without a model."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from faithbench.harness.backends import hf
from faithbench.harness.runner import EvalConfig, rescore, run_eval
from faithbench.harness.store import RunDir

pytestmark = pytest.mark.slow
FAITHBENCH = Path(sys.executable).parent / "faithbench"


@pytest.fixture(scope="module")
def smol_run(tmp_path_factory: pytest.TempPathFactory) -> RunDir:
    out = tmp_path_factory.mktemp("e2e") / "run"
    return run_eval(
        EvalConfig(
            model="smollm2",
            task="gsm8k",
            out=out,
            limit=3,
            max_new_tokens=96,
            batch_size=3,
            use_cache=False,
            progress=False,
        )
    )


def test_real_eval_writes_scored_samples(smol_run: RunDir) -> None:
    records = smol_run.read_samples()
    assert sorted(r.id for r in records) == ["test-0", "test-1", "test-2"]
    for r in records:
        assert r.completion.strip()
        assert r.n_tokens is not None and 0 < r.n_tokens <= 96
        assert set(r.scores) >= {"accuracy", "step_arithmetic", "number_grounding"}
        for score in r.scores.values():
            assert (score.value is None) == (score.reason is not None)
    info = smol_run.read_info()
    assert info.status == "finished" and info.model == "smollm2"
    assert "smollm2" in info.model_identity.lower() or "SmolLM2" in info.model_identity
    summary = smol_run.read_summary()
    assert summary.n_samples == 3 and summary.metrics["accuracy"].n == 3


def test_score_regenerates_nothing(smol_run: RunDir, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("score must not generate")

    monkeypatch.setattr(hf.HFBackend, "generate", refuse)
    monkeypatch.setattr(hf.HFBackend, "__init__", refuse)
    before = {r.id: r.completion for r in smol_run.read_samples()}
    rescore(smol_run.path, ["step_arithmetic"], progress=False)
    after = smol_run.read_samples()
    assert {r.id: r.completion for r in after} == before
    assert all("step_arithmetic" in r.scores for r in after)


def test_killed_run_resumes_without_losing_or_duplicating(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [
        str(FAITHBENCH),
        "eval",
        "--model",
        "smollm2",
        "--limit",
        "4",
        "--batch-size",
        "1",
        "--max-new-tokens",
        "48",
        "--out",
        str(out),
        "--quiet",
        "--no-cache",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    samples = out / "samples.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if samples.exists() and samples.read_bytes().count(b"\n") >= 1:
            break
        time.sleep(0.2)
    assert proc.poll() is None, (
        f"run ended before it could be killed: {proc.stderr.read() if proc.stderr else ''}"
    )
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    survived = samples.read_bytes().split(b"\n")
    survived_lines = [line for line in survived[:-1] if line]  # whole lines only
    assert 1 <= len(survived_lines) < 4
    assert json.loads((out / "run.json").read_text())["status"] == "running"

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = samples.read_bytes().splitlines()
    assert lines[: len(survived_lines)] == survived_lines  # finished samples kept, not redone
    ids = [json.loads(line)["id"] for line in lines]
    assert sorted(ids) == ["test-0", "test-1", "test-2", "test-3"]
    assert json.loads((out / "run.json").read_text())["status"] == "finished"
