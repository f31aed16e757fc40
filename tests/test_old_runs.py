"""A run directory written by main before the parsing package (commit fd93e12: 0-based
`first_wrong_step`, no `first_error_step`, flexible answers) is read, rescored and compared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from faithbench.compare.compare import compare_runs
from faithbench.harness.runner import rescore
from faithbench.harness.store import RunDir

OLD_RUN = Path(__file__).parent / "fixtures" / "runs" / "main-fd93e12-gsm8k"


def _copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copytree(OLD_RUN, tmp_path / name))


def test_the_old_run_reads_as_it_was_written(tmp_path: Path) -> None:
    records = {r.id: r for r in RunDir(_copy(tmp_path, "old")).read_samples()}
    assert len(records) == 6
    assert all(r.first_error_step is None and r.first_error_by == [] for r in records.values())
    # written 0-based by the old parser: `2 * 3 = 7` is its sentence index 3
    assert records["test-1"].details["step_arithmetic"]["first_wrong_step"] == 3


def test_score_rescores_the_old_run_with_the_new_parser(tmp_path: Path) -> None:
    run = rescore(_copy(tmp_path, "rescored"), [], progress=False, register=False)
    records = {r.id: r for r in run.read_samples()}
    wrong = records["test-1"]
    # the check step after the answer, on its own line 4, is wrong; steps are numbered from 1 now
    assert wrong.details["step_arithmetic"]["first_wrong_step"] == 4
    assert (wrong.first_error_step, wrong.first_error_by) == (4, ["step_arithmetic"])
    assert wrong.answer == "7"  # the stored answer is kept (see docs/metrics.md, Answer extraction)
    clean = [r for i, r in records.items() if i != "test-1"]
    assert all(r.scores["step_arithmetic"] in (1.0, None) for r in clean)
    summary = json.loads((run.path / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_samples"] == 6


def test_the_old_and_the_rescored_run_compare(tmp_path: Path) -> None:
    old = _copy(tmp_path, "old")
    new = rescore(_copy(tmp_path, "new"), [], progress=False, register=False).path
    report = compare_runs([old, new])
    by_metric = {c.metric: c for c in report.comparisons}
    assert by_metric["accuracy"].delta == 0.0
    assert by_metric["step_arithmetic"].n == 6
