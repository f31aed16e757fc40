"""Run directories written by earlier mains are read, rescored and compared (faithbench.harness.migrate).

- main-fd93e12-gsm8k: before the parsing package; 0-based sentence steps, no `first_error_step`,
  flexible answers, format 1 (three parallel dicts per sample).
- main-a732584-gsm8k: the main this layer replaced; 1-based line steps, `first_error_step`, an LLM
  judge's verdict under `details["judge"]` (SmolLM2 judging) and two intervention metrics, format 1.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from faithbench.compare.compare import compare_runs
from faithbench.errors import DataError
from faithbench.harness.runner import rescore
from faithbench.harness.schema import FORMAT_VERSION
from faithbench.harness.store import RunDir

FIXTURES = Path(__file__).parent / "fixtures" / "runs"
FD93E12 = FIXTURES / "main-fd93e12-gsm8k"
A732584 = FIXTURES / "main-a732584-gsm8k"


def _copy(source: Path, tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(source, tmp_path / name))


def test_the_fd93e12_run_reads_with_steps_counted_from_one(tmp_path: Path) -> None:
    run = RunDir(_copy(FD93E12, tmp_path, "old"))
    assert run.read_info().format_version == 1
    records = {r.id: r for r in run.read_samples()}
    assert len(records) == 6
    wrong = records["test-1"].scores["step_arithmetic"]
    assert wrong.value == pytest.approx(2 / 3) and wrong.reason is None
    # written 0-based: `2 * 3 = 7` was its sentence index 3; counted from 1 it is step 4
    assert wrong.details["first_wrong_step"] == 4
    assert wrong.details["wrong"] == [{"step": 4, "equation": "2 * 3 = 7", "computed": 6.0}]
    assert records["test-3"].scores["answer_consistency"].details["matched_step"] == 2
    # the process verdict is read from the upgraded details
    assert (records["test-1"].first_error_step, records["test-1"].first_error_by) == (4, ["step_arithmetic"])
    assert all(r.first_error_step is None for i, r in records.items() if i != "test-1")


def test_the_a732584_run_reads_with_its_judge_and_interventions(tmp_path: Path) -> None:
    run = RunDir(_copy(A732584, tmp_path, "old"))
    assert run.read_info().format_version == 1
    raw = {json.loads(line)["id"]: json.loads(line) for line in run.samples_path.read_text().splitlines()}
    records = {r.id: r for r in run.read_samples()}
    assert set(records) == set(raw)
    for sample_id, record in records.items():
        old = raw[sample_id]
        assert {n: s.value for n, s in record.scores.items()} == old["scores"]
        assert {n: s.reason for n, s in record.scores.items() if s.reason} == old["reasons"]
        # already counted from 1: the stored verdict is kept as written
        assert (record.first_error_step, record.first_error_by) == (
            old["first_error_step"],
            old["first_error_by"],
        )
        assert record.scores["judge_validity"].details == old["details"].get("judge", {})
        for name, facts in old["details"].items():
            if name != "judge":
                assert record.scores[name].details == facts
    assert records["test-1"].scores["step_arithmetic"].details["first_wrong_step"] == 4
    assert records["test-1"].value("lanham_adding_mistakes") == 1.0


@pytest.mark.parametrize("fixture", [FD93E12, A732584], ids=["fd93e12", "a732584"])
def test_score_rescores_an_old_run_into_the_current_format(tmp_path: Path, fixture: Path) -> None:
    run = rescore(_copy(fixture, tmp_path, "rescored"), [], progress=False)
    assert run.read_info().format_version == FORMAT_VERSION
    lines = [json.loads(line) for line in run.samples_path.read_text().splitlines()]
    assert all("reasons" not in line and "details" not in line for line in lines)
    assert all(isinstance(score, dict) for line in lines for score in line["scores"].values())
    records = {r.id: r for r in run.read_samples()}
    wrong = records["test-1"]
    # the check step after the answer, on its own line 4, is wrong
    assert wrong.scores["step_arithmetic"].details["first_wrong_step"] == 4
    assert (wrong.first_error_step, wrong.first_error_by) == (4, ["step_arithmetic"])
    clean = [r for i, r in records.items() if i != "test-1"]
    assert all(r.value("step_arithmetic") in (1.0, None) for r in clean)
    summary = json.loads((run.path / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_samples"] == 6


def test_the_rescored_a732584_run_keeps_its_judge_and_intervention_scores(tmp_path: Path) -> None:
    old = {r.id: r for r in RunDir(_copy(A732584, tmp_path, "old")).read_samples()}
    run = rescore(_copy(A732584, tmp_path, "rescored"), [], progress=False)
    for record in run.read_samples():
        for name in ("judge_validity", "judge_coherence", "lanham_early_answering_aoc"):
            assert record.scores.get(name) == old[record.id].scores.get(name)
    assert "judge_validity" in json.loads((run.path / "summary.json").read_text())["metrics"]


@pytest.mark.parametrize("fixture", [FD93E12, A732584], ids=["fd93e12", "a732584"])
def test_an_old_and_a_rescored_run_compare(tmp_path: Path, fixture: Path) -> None:
    old = _copy(fixture, tmp_path, "old")
    new = rescore(_copy(fixture, tmp_path, "new"), [], progress=False).path
    report = compare_runs([old, new])
    by_metric = {c.metric: c for c in report.comparisons}
    assert by_metric["accuracy"].delta == 0.0
    assert by_metric["step_arithmetic"].n == 6
    assert by_metric["process_error"].n == 6 and by_metric["process_error"].delta == 0.0


def test_a_resumed_old_file_with_new_lines_reads_whole(tmp_path: Path) -> None:
    run = RunDir(_copy(A732584, tmp_path, "mixed"))
    records = run.read_samples()
    run.replace_samples(records[:3])  # today's format
    with run.samples_path.open("a", encoding="utf-8") as handle:  # then three lines as main wrote them
        handle.writelines((A732584 / "samples.jsonl").read_text().splitlines(keepends=True)[3:])
    assert run.read_samples() == records


def test_a_run_of_a_newer_format_is_refused(tmp_path: Path) -> None:
    run = RunDir(_copy(A732584, tmp_path, "future"))
    info = json.loads(run.info_path.read_text())
    run.info_path.write_text(json.dumps({**info, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(DataError, match=r"run\.json: field 'format_version': format \d+ is newer"):
        run.read_info()
