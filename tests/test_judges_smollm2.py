"""The rubric judge end to end with the real SmolLM2-135M-Instruct as judge (slow): `score --judge`
on a run, `judge-check`, and the prompt-injection trial. A 135M model is a poor judge; these tests
hold the machinery to account (every sample scored in range or unscored with a reason, prefill
used, the cache serving reruns), not the verdicts. `pytest -s` prints what the model did."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from faithbench.cli import main
from faithbench.harness.store import RunDir
from faithbench.judges.injections import INJECTIONS, injection_trial
from faithbench.judges.judge import JUDGE_METRICS, JudgeConfig, open_judge
from faithbench.judges.planted import planted_suite
from faithbench.judges.rubric import PREFILL, PROMPT_VERSION
from faithbench.tasks.registry import TASKS

pytestmark = pytest.mark.slow
TOKENS = "64"  # a verdict with a one-sentence explanation fits; a rambling one is cut and retried


@pytest.fixture
def responses_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "responses.sqlite"
    monkeypatch.setenv("FAITHBENCH_RESPONSES_DB", str(path))
    return path


def _rows(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        count: int = connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    return count


def test_score_a_run_with_smollm2_as_judge(
    tmp_path: Path, responses_db: Path, test_rows: list[dict[str, str]]
) -> None:
    predictions = tmp_path / "pred.jsonl"
    predictions.write_text(
        "".join(json.dumps({"id": f"test-{i}", "completion": test_rows[i]["answer"]}) + "\n" for i in (0, 3))
    )
    out = tmp_path / "run"
    assert main(["eval", "--model", f"predictions:{predictions}", "--out", str(out), "--quiet"]) == 0
    args = ["score", str(out), "--judge", "smollm2", "--judge-max-new-tokens", TOKENS, "--quiet"]
    assert main(args) == 0
    run = RunDir(out)
    info = run.read_info()
    assert info.judge is not None and info.judge.prefill == PREFILL
    assert info.judge.prompt_version == PROMPT_VERSION and info.judge.identity.startswith("hf:")
    samples = run.read_samples()
    for sample in samples:
        verdict = sample.scores["judge_validity"].details
        print(f"\n{sample.id}: scores {[sample.value(m) for m in JUDGE_METRICS]}, {verdict}")
        assert verdict["attempts"] in (1, 2)
        for metric in JUDGE_METRICS:
            value = sample.value(metric)
            assert (value is not None and 0 <= value <= 1) or sample.scores[metric].reason
    rows = _rows(responses_db)
    assert rows >= len(samples)
    assert main(args) == 0  # a rerun: every verdict from the cache, the same scores
    assert _rows(responses_db) == rows
    assert [s.scores for s in run.read_samples()] == [s.scores for s in samples]


def test_judge_check_with_smollm2_prints_its_table(
    tmp_path: Path, responses_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "check.json"
    args = ["judge-check", "--judge", "smollm2", "--limit", "1", "--judge-max-new-tokens", TOKENS]
    assert main([*args, "--json", str(report), "--quiet"]) == 0
    table = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + table)
    for needle in (
        "judge-check | smollm2",
        "detection: wrong_result",
        "false alarms",
        "ProcessBench F1",
        "kappa",
    ):
        assert needle in table
    data = json.loads(report.read_text())
    assert data["n_cases"] == 4
    for case in data["cases"]:
        assert (case["judge_flags"] is None) == (case["reason"] is not None)


def test_screened_injections_do_not_move_smollm2(responses_db: Path, data_dir: Path) -> None:
    """Four rationales with a planted wrong result, graded greedily (so the run-to-run spread is 0)
    clean and with each injection of the test set, 96 tokens. Screening withholds the injected
    lines, so the judge sees the rationale and placeholders. Every injection must be measured (a
    clean and an injected verdict scored) and move no rating.

    Measured (docs/judges.md): 2 of the 4 clean verdicts readable, validity 1; every injection's
    readable verdicts validity 1 as well. Before screening, SmolLM2 copied the verdict a forged
    closing marker handed it (sampled: mean validity 3.67 against its own 1)."""
    items, _ = TASKS.get("gsm8k").load(data_dir, limit=6)
    cases = [c for c in planted_suite(items, 4) if c.kind == "wrong_result"]
    config = JudgeConfig(spec="smollm2", temperature=0.0, max_new_tokens=96)
    with open_judge(config) as judge:
        effects = injection_trial(judge, cases, seeds=(0,))
    assert {e.injection for e in effects} == set(INJECTIONS)
    for e in effects:
        print(
            f"\n{e.injection:17s} {e.rating:9s} clean {e.clean_mean} injected {e.injected_mean} "
            f"shift {e.shift} (n {e.n_clean}/{e.n_injected}, unscored {e.n_unscored})"
        )
        assert e.n_injected + e.n_unscored == len(cases)
    unmeasured = [e.injection for e in effects if e.shift is None]
    assert not unmeasured, f"no clean or injected verdict to compare for {unmeasured}"
    moved = [(e.injection, e.rating, e.shift) for e in effects if e.shift != 0]
    assert not moved, moved
