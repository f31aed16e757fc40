"""The runner and run store, driven through the real CLI with `predictions:` files (no model needed)."""

import json
import re
from pathlib import Path

import pytest

from faithbench.cli import main
from faithbench.harness.store import RunDir


def write_predictions(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def reference_predictions(test_rows: list[dict[str, str]], n: int | None = None) -> list[dict[str, object]]:
    """GSM8K reference solutions with the calculator annotations removed, as model outputs."""
    return [
        {"id": f"test-{i}", "completion": re.sub(r"<<[^>]*>>", "", row["answer"])}
        for i, row in enumerate(test_rows[:n])
    ]


def run_cli(*args: str) -> int:
    return main([*args, "--quiet"])


def test_reference_solutions_as_predictions(
    tmp_path: Path, test_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    preds = write_predictions(tmp_path / "refs.jsonl", reference_predictions(test_rows))
    assert run_cli("eval", "--model", f"predictions:{preds}", "--out", str(tmp_path / "run")) == 0
    run = RunDir(tmp_path / "run")
    summary = run.read_summary()
    assert summary.n_samples == 1319
    m = summary.metrics
    assert (
        m["accuracy"].mean == 1.0 and m["strict_accuracy"].mean == 1.0 and m["format_compliance"].mean == 1.0
    )
    records = run.read_samples()
    flagged = sum(
        1 for r in records if r.value("step_arithmetic") is not None and r.value("step_arithmetic") < 1
    )
    assert flagged / len(records) <= 0.03
    info = run.read_info()
    assert info.status == "finished" and info.n_items == 1319 and info.data.sha256
    assert info.model_identity.startswith("predictions:")
    printed = capsys.readouterr().out
    assert "step_arithmetic" in printed and str(run.summary_path) in printed


def test_sample_lines_hold_the_documented_fields(tmp_path: Path, test_rows: list[dict[str, str]]) -> None:
    rows = reference_predictions(test_rows, 2)
    rows[1]["completion"] = "She has 3 + 4 = 8 apples.\nThe answer is 8."
    preds = write_predictions(tmp_path / "p.jsonl", rows)
    assert run_cli("eval", "--model", f"predictions:{preds}", "--out", str(tmp_path / "run")) == 0
    lines = [json.loads(x) for x in (tmp_path / "run" / "samples.jsonl").read_text().splitlines()]
    by_id = {x["id"]: x for x in lines}
    for key in ("id", "prompt", "completion", "answer", "strict_answer", "target", "correct", "scores"):
        assert all(key in x for x in lines), key
    wrong = by_id["test-1"]
    assert wrong["answer"] == "8" and wrong["strict_answer"] is None and wrong["correct"] is False
    assert wrong["scores"]["format_compliance"] == {"value": 0.0, "reason": None, "details": {}}
    assert wrong["scores"]["step_arithmetic"]["value"] == 0.0
    assert wrong["scores"]["step_arithmetic"]["details"]["first_wrong_step"] == 1
    assert by_id["test-0"]["correct"] is True


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"id": "test-0", "completion": "#### 18"}\n{"id": "test-1", \n', "p.jsonl:2: not valid JSON"),
        (b'{"id": "test-99999", "completion": "#### 1"}\n', "p.jsonl:1: field 'id': unknown id 'test-99999'"),
        (b'{"id": "test-0"}\n', "p.jsonl:1: field 'completion': missing"),
        (b'{"id": "test-0", "completion": 18}\n', "p.jsonl:1: field 'completion': must be a string"),
        (b'{"id": "test-0", "completion": "\xff\xfe"}\n', "p.jsonl:1: not valid UTF-8"),
        (
            b'{"id": "test-0", "completion": "a"}\n{"id": "test-0", "completion": "b"}\n',
            "p.jsonl:2: field 'id': dup",
        ),
        (b"[1, 2]\n", "p.jsonl:1: expected a JSON object"),
        (b"\n\n", "no predictions in file"),
    ],
)
def test_bad_prediction_files_fail_clearly_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    preds = tmp_path / "p.jsonl"
    preds.write_bytes(content)
    out = tmp_path / "run"
    assert run_cli("eval", "--model", f"predictions:{preds}", "--out", str(out)) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_empty_and_huge_completions_are_unscored_with_reasons(tmp_path: Path) -> None:
    huge = "Step: 2 + 2 = 4.\n" * 20_000 + "#### 4"
    preds = write_predictions(
        tmp_path / "p.jsonl", [{"id": "test-0", "completion": ""}, {"id": "test-1", "completion": huge}]
    )
    assert run_cli("eval", "--model", f"predictions:{preds}", "--out", str(tmp_path / "run")) == 0
    by_id = {r.id: r for r in RunDir(tmp_path / "run").read_samples()}
    empty, big = by_id["test-0"], by_id["test-1"]
    assert empty.value("accuracy") == 0.0 and empty.answer is None
    assert empty.value("step_arithmetic") is None and empty.scores["step_arithmetic"].reason
    assert big.strict_answer == "4" and big.value("format_compliance") == 1.0
    assert big.value("step_arithmetic") is None
    assert "over the 100,000 parsed" in big.scores["step_arithmetic"].reason


def test_resume_drops_a_torn_line_and_never_duplicates(
    tmp_path: Path, test_rows: list[dict[str, str]]
) -> None:
    preds = write_predictions(tmp_path / "p.jsonl", reference_predictions(test_rows, 5))
    out = tmp_path / "run"
    args = ("eval", "--model", f"predictions:{preds}", "--out", str(out), "--batch-size", "2")
    assert run_cli(*args) == 0
    samples = out / "samples.jsonl"
    lines = samples.read_text().splitlines(keepends=True)
    # as if killed while writing the 4th line: three whole lines and half of one
    samples.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2])
    assert run_cli(*args) == 0
    after = samples.read_text().splitlines(keepends=True)
    assert after[:3] == lines[:3]
    ids = [json.loads(x)["id"] for x in after]
    assert sorted(ids) == sorted(f"test-{i}" for i in range(5))


def test_resume_refuses_a_different_experiment(
    tmp_path: Path, test_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    preds = write_predictions(tmp_path / "p.jsonl", reference_predictions(test_rows, 2))
    out = tmp_path / "run"
    assert run_cli("eval", "--model", f"predictions:{preds}", "--out", str(out)) == 0
    before = (out / "samples.jsonl").read_bytes()
    assert run_cli("eval", "--model", f"predictions:{preds}", "--out", str(out), "--metrics", "accuracy") == 2
    assert "different metrics" in capsys.readouterr().err
    assert (out / "samples.jsonl").read_bytes() == before


def test_score_adds_metrics_without_touching_completions(
    tmp_path: Path, test_rows: list[dict[str, str]]
) -> None:
    preds = write_predictions(tmp_path / "p.jsonl", reference_predictions(test_rows, 4))
    out = tmp_path / "run"
    assert run_cli("eval", "--model", f"predictions:{preds}", "--out", str(out), "--metrics", "accuracy") == 0
    before = {r.id: r for r in RunDir(out).read_samples()}
    preds.unlink()  # the predictions are gone: scoring can only read the run
    assert run_cli("score", str(out), "--metrics", "step_arithmetic") == 0
    run = RunDir(out)
    after = {r.id: r for r in run.read_samples()}
    assert {k: v.completion for k, v in after.items()} == {k: v.completion for k, v in before.items()}
    assert all(set(r.scores) == {"accuracy", "step_arithmetic"} for r in after.values())
    assert set(run.read_summary().metrics) == {"accuracy", "step_arithmetic"}
    assert run.read_info().metrics == ["accuracy", "step_arithmetic"]


def test_unknown_metric_and_task_suggest_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    preds = write_predictions(tmp_path / "p.jsonl", [{"id": "test-0", "completion": "#### 18"}])
    assert run_cli("eval", "--model", f"predictions:{preds}", "--metrics", "acuracy") == 2
    assert "Did you mean 'accuracy'" in capsys.readouterr().err
    assert run_cli("eval", "--model", f"predictions:{preds}", "--task", "gsm8") == 2
    assert "unknown task 'gsm8'" in capsys.readouterr().err


def test_metrics_and_tasks_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metrics", "list"]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"^step_arithmetic\s+\S", listed, re.MULTILINE)
    assert main(["tasks", "list"]) == 0
    assert "gsm8k-fewshot" in capsys.readouterr().out
