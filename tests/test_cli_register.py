"""The `faithbench` command records the runs it finishes (eval, score, import) in the results
database itself, and a database failure only warns. Real runs from GSM8K reference solutions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from faithbench.cli import main
from faithbench.harness.store import RunDir
from faithbench.leaderboard.db import list_runs


def _eval(tmp_path: Path, test_rows: list[dict[str, str]], name: str, *options: str) -> tuple[int, Path]:
    preds = tmp_path / f"{name}.jsonl"
    rows = [
        {"id": f"test-{i}", "completion": re.sub(r"<<[^>]*>>", "", r["answer"])}
        for i, r in enumerate(test_rows[:3])
    ]
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / name
    return main(["eval", "--model", f"predictions:{preds}", "--out", str(out), "--quiet", *options]), out


def test_eval_registers_in_the_given_database_and_not_when_told(
    tmp_path: Path, test_rows: list[dict[str, str]], results_db: str
) -> None:
    url = f"sqlite:///{tmp_path / 'given.db'}"
    code, path = _eval(tmp_path, test_rows, "run", "--db", url)
    assert code == 0
    assert [r.path for r in list_runs(url)] == [str(path.resolve())]
    assert list_runs(results_db) == []  # --db, not $FAITHBENCH_DB
    code, path = _eval(tmp_path, test_rows, "default")
    assert code == 0 and [r.path for r in list_runs(results_db)] == [str(path.resolve())]
    other = tmp_path / "other.db"
    code, _ = _eval(tmp_path, test_rows, "unregistered", "--db", str(other), "--no-register")
    assert code == 0 and not other.exists()


def test_score_registers_a_finished_run_again_and_never_an_unfinished_one(
    tmp_path: Path, test_rows: list[dict[str, str]], results_db: str
) -> None:
    code, path = _eval(tmp_path, test_rows, "run", "--metrics", "accuracy")
    assert code == 0
    (first,) = list_runs(results_db)
    assert set(first.metrics) == {"accuracy"}
    assert main(["score", str(path), "--metrics", "accuracy,step_arithmetic", "--quiet"]) == 0
    (again,) = list_runs(results_db)
    assert again.id == first.id and set(again.metrics) == {"accuracy", "step_arithmetic"}

    info = json.loads((path / "run.json").read_text())
    info["status"] = "running"
    (path / "run.json").write_text(json.dumps(info))
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["score", str(path), "--quiet", "--db", fresh]) == 0
    assert not (tmp_path / "fresh.db").exists()


def test_a_database_failure_warns_with_the_password_masked_and_keeps_the_run(
    tmp_path: Path, test_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+psycopg://alice:s3cret@127.0.0.1:1/results"  # nothing listens on port 1
    code, path = _eval(tmp_path, test_rows, "run", "--db", url)
    assert code == 0
    captured = capsys.readouterr()
    assert "warning: run not registered in postgresql+psycopg://alice:***@127.0.0.1:1/results" in captured.err
    assert "s3cret" not in captured.err and f"faithbench register {path}" in captured.err
    assert f"run:     {path}" in captured.out  # the summary is printed all the same
    run = RunDir(path)
    assert run.read_info().status == "finished" and run.read_summary().n_samples == 3
