"""faithbench.interop: lm-eval samples and inspect-ai logs become faithbench runs; faithbench's metrics
inside lm-eval (task YAML) and inspect-ai (task + scorer). The slow tests make real lm-eval samples
(hf backend on the local SmolLM2) and a real `inspect eval` log in the test."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from faithbench.cli import main
from faithbench.compare.compare import compare_runs
from faithbench.compare.gate import gate
from faithbench.errors import DataError
from faithbench.harness.runner import EvalConfig, rescore, run_eval
from faithbench.harness.store import RunDir
from faithbench.interop import lm_eval_task_dir
from faithbench.interop.inspect_import import import_inspect
from faithbench.interop.lm_eval_import import import_lm_eval, lm_eval_answer
from faithbench.tasks.registry import TASKS

BIN = Path(sys.executable).parent
LIMIT = 3


def _load_utils() -> Any:
    spec = importlib.util.spec_from_file_location("fb_lm_eval_utils", lm_eval_task_dir() / "utils.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ------------------------------------------------------------------------------------------ fast


@pytest.mark.parametrize(
    ("filtered", "expected"),
    [("[invalid]", None), ("18", "18"), ("$1,234.", "1234"), ("18.00", "18"), ("...", None), ("-5", "-5")],
)
def test_lm_eval_answer_normalises_like_faithbench(filtered: str, expected: str | None) -> None:
    assert lm_eval_answer(filtered) == expected


def _fake_lm_eval_file(path: Path, rows: list[dict[str, str]], completions: list[str]) -> None:
    lines = []
    for doc_id, (row, text) in enumerate(zip(rows, completions, strict=True)):
        for name, value in (("strict-match", "[invalid]"), ("flexible-extract", "7.")):
            lines.append(
                {
                    "doc_id": doc_id,
                    "doc": row,
                    "arguments": {"gen_args_0": {"arg_0": "Question: ...", "arg_1": {"max_gen_toks": 9}}},
                    "resps": [[text]],
                    "filtered_resps": [value],
                    "filter": name,
                }
            )
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")


def test_lm_eval_import_uses_the_files_filtered_answers(
    tmp_path: Path, test_rows: list[dict[str, str]]
) -> None:
    path = tmp_path / "samples_gsm8k_2026.jsonl"
    _fake_lm_eval_file(path, test_rows[:2], ["3 + 4 = 7. #### 8", "no number here"])
    run = import_lm_eval(path, tmp_path / "run")
    records = run.read_samples()
    assert [r.id for r in records] == ["test-0", "test-1"]
    # lm-eval's answers, not faithbench's own (which would read 8 and None)
    assert [(r.answer, r.strict_answer) for r in records] == [("7", None), ("7", None)]
    assert records[0].value("accuracy") == 0.0 and records[0].scores["accuracy"].details["answer"] == "7"
    info = run.read_info()
    assert info.generation.max_new_tokens == 9 and info.n_items == 2
    assert info.data.sha256 == TASKS.get("gsm8k-fewshot").load()[1].sha256
    # `faithbench score` keeps the imported answers
    rescore(run.path, ["accuracy", "answer_consistency"], progress=False)
    assert [(r.answer, r.strict_answer) for r in RunDir(run.path).read_samples()] == [
        ("7", None),
        ("7", None),
    ]


def test_lm_eval_import_refuses_a_question_of_another_item(
    tmp_path: Path, test_rows: list[dict[str, str]]
) -> None:
    path = tmp_path / "samples.jsonl"
    _fake_lm_eval_file(path, [{"question": "What is 2 + 2?", "answer": "#### 4"}], ["4"])
    with pytest.raises(DataError, match="no item of task"):
        import_lm_eval(path, tmp_path / "run")


def test_lm_eval_process_results_scores_a_reference(test_rows: list[dict[str, str]]) -> None:
    utils = _load_utils()
    row = test_rows[0]
    values = utils.process_results(row, [row["answer"].replace("<<16-3-4=9>>", "")])
    assert values["accuracy"] == 1.0 and values["strict_accuracy"] == 1.0
    assert values["step_arithmetic"] == 1.0 and values["number_grounding"] == 1.0
    assert utils.process_results(row, ["I do not know."])["step_arithmetic"] is None
    assert utils.scored_mean([1.0, None, 0.0]) == 0.5 and math.isnan(utils.scored_mean([None]))


def test_inspect_samples_are_faithbench_items() -> None:
    from faithbench.interop.inspect_task import gsm8k_samples

    samples = gsm8k_samples("gsm8k-fewshot", limit=2, num_fewshot=1)
    items, _ = TASKS.get("gsm8k-fewshot").load(limit=2)
    assert [s.id for s in samples] == ["test-0", "test-1"]
    assert [s.target for s in samples] == [i.target for i in items]
    assert isinstance(samples[0].input, str) and samples[0].input.endswith(f"{items[0].question}\nAnswer:")


# ------------------------------------------------------------------------------------------ slow


@pytest.fixture(scope="module")
def lm_eval_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real lm-eval run: hf backend on the local SmolLM2, both shipped tasks, 3 docs, zero-shot."""
    from faithbench.harness.backends.smollm2 import smollm2_path

    out = tmp_path_factory.mktemp("lm_eval")
    cmd = [
        str(BIN / "lm_eval"),
        "--model", "hf",
        "--model_args", f"pretrained={smollm2_path()},dtype=float32",
        "--tasks", "gsm8k_local,gsm8k_faithfulness",
        "--include_path", str(lm_eval_task_dir()),
        "--limit", str(LIMIT),
        "--num_fewshot", "0",
        "--gen_kwargs", "max_gen_toks=48",
        "--batch_size", str(LIMIT),
        "--device", "cpu",
        "--log_samples",
        "--output_path", str(out),
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _one(folder: Path, pattern: str) -> Path:
    (found,) = folder.rglob(pattern)
    return found


@pytest.mark.slow
def test_lm_eval_import_reproduces_strict_and_flexible_answers(lm_eval_out: Path, tmp_path: Path) -> None:
    samples = _one(lm_eval_out, "samples_gsm8k_local_*.jsonl")
    run = import_lm_eval(samples, tmp_path / "imported")
    records = {r.id: r for r in run.read_samples()}
    rows = _rows(samples)
    assert len(records) == LIMIT and len(rows) == 2 * LIMIT
    for row in rows:
        record = records[f"test-{row['doc_id']}"]
        assert record.completion == row["resps"][0][0]
        assert record.question == row["doc"]["question"]
        expected = lm_eval_answer(row["filtered_resps"][0])
        if row["filter"] == "strict-match":
            assert record.strict_answer == expected
            if row["exact_match"] == 1.0:
                assert record.strict_correct
        else:
            assert row["filter"] == "flexible-extract"
            assert record.answer == expected
            if row["exact_match"] == 1.0:
                assert record.correct
        assert record.value("accuracy") == float(record.correct)
    info = run.read_info()
    assert info.model.startswith("lm-eval:hf:") and info.num_fewshot == 0
    assert info.generation.max_new_tokens == 48
    assert info.data.sha256 == TASKS.get("gsm8k-fewshot").load()[1].sha256

    # the same completions through `faithbench eval --model predictions:` pair with it in compare/gate
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        "".join(json.dumps({"id": i, "completion": r.completion}) + "\n" for i, r in records.items()),
        encoding="utf-8",
    )
    native = run_eval(
        EvalConfig(
            model=f"predictions:{preds}",
            task="gsm8k-fewshot",
            num_fewshot=0,
            out=tmp_path / "native",
            progress=False,
        )
    )
    report = compare_runs([native.path, run.path], metrics=["step_arithmetic", "number_grounding"])
    assert all(c.n <= LIMIT and c.delta in (0.0, None) for c in report.comparisons)
    assert gate(native.path, run.path, metrics=["step_arithmetic"]).passed


@pytest.mark.slow
def test_lm_eval_faithfulness_task_matches_faithbench_scoring(lm_eval_out: Path, tmp_path: Path) -> None:
    results = json.loads(_one(lm_eval_out, "results_*.json").read_text(encoding="utf-8"))
    reported = results["results"]["gsm8k_faithfulness"]
    # its samples have no strict/flexible filters: faithbench extracts answers itself, as inside lm-eval
    run = import_lm_eval(_one(lm_eval_out, "samples_gsm8k_faithfulness_*.jsonl"), tmp_path / "faith")
    summary = run.read_summary()
    for name, m in summary.metrics.items():
        value = reported[f"{name},none"]
        if m.mean is None:
            assert math.isnan(value)
        else:
            assert value == pytest.approx(m.mean)


def _reference_output(test_rows: list[dict[str, str]]) -> Any:
    from inspect_ai.model import ModelOutput

    def answer(messages: list[Any], *_: Any) -> ModelOutput:
        text = messages[-1].text
        row = next(r for r in test_rows if r["question"] in text)
        return ModelOutput.from_content(model="mockllm/model", content=row["answer"])

    return answer


def test_inspect_log_imports_with_its_samples_and_completions(
    tmp_path: Path, test_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import get_model

    from faithbench.interop.inspect_task import gsm8k_faithfulness

    model = get_model("mockllm/model", custom_outputs=_reference_output(test_rows))

    async def count_text_tokens(text: str) -> int:  # mockllm counts with tiktoken, a download
        return len(text.split())

    model.api.count_text_tokens = count_text_tokens  # type: ignore[method-assign]
    (log,) = inspect_eval(
        gsm8k_faithfulness(limit=LIMIT), model=model, log_dir=str(tmp_path / "logs"), display="none"
    )
    assert log.status == "success" and log.samples and len(log.samples) == LIMIT
    assert log.results is not None
    means = {s.name: s.metrics["mean"].value for s in log.results.scores}
    assert means["accuracy"] == 1.0 and means["step_arithmetic"] == 1.0

    run = import_inspect(log.location, tmp_path / "run")
    records = run.read_samples()
    assert len(records) == len(log.samples)
    assert [(r.id, r.completion) for r in records] == [(str(s.id), s.output.completion) for s in log.samples]
    assert run.read_summary().metrics["accuracy"].mean == 1.0
    assert run.read_info().task == "gsm8k"
    # a mistyped task name is the registry's one-line error (RegistryError is a FaithbenchError)
    args = ["import", "inspect", log.location, "--task", "gsm8kk", "--out", str(tmp_path / "typo")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("faithbench: error: unknown task 'gsm8kk'. Did you mean 'gsm8k'")
    assert "Traceback" not in err and not (tmp_path / "typo").exists()


@pytest.mark.slow
def test_inspect_cli_runs_the_registered_task(tmp_path: Path) -> None:
    """`inspect eval faithbench/gsm8k_faithfulness` through the entry point, real SmolLM2 (hf provider)."""
    from inspect_ai.log import read_eval_log

    from faithbench.harness.backends.smollm2 import smollm2_path

    cmd = [
        str(BIN / "inspect"), "eval", "faithbench/gsm8k_faithfulness",
        "--model", "hf/smollm2", "-M", f"model_path={smollm2_path()}",
        "-M", "device=cpu", "-M", "do_sample=false",
        "--limit", "2", "-T", "max_tokens=32", "--log-dir", str(tmp_path), "--display", "plain",
    ]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    (path,) = tmp_path.glob("*.eval")
    log = read_eval_log(str(path))
    assert log.status == "success" and log.samples and [s.id for s in log.samples] == ["test-0", "test-1"]
    assert log.results is not None
    names = {s.name for s in log.results.scores}  # one EvalScore per faithbench metric, mean and stderr
    assert {"accuracy", "step_arithmetic", "number_grounding"} <= names
    run = import_inspect(path, tmp_path / "run")
    assert [r.completion for r in run.read_samples()] == [s.output.completion for s in log.samples]


def test_import_cli_writes_and_registers_a_run(
    tmp_path: Path, test_rows: list[dict[str, str]], results_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from faithbench.cli import main

    path = tmp_path / "samples.jsonl"
    _fake_lm_eval_file(path, test_rows[:3], ["1 + 1 = 2", "2 + 2 = 4", "#### 7"])
    out = tmp_path / "run"
    assert main(["import", "lm-eval", str(path), "--out", str(out), "--register", "--db", results_db]) == 0
    assert "imported 3 samples" in capsys.readouterr().out
    assert main(["leaderboard", "--task", "gsm8k-fewshot", "--db", results_db]) == 0
    assert "run" in capsys.readouterr().out
    # a second import into the same directory, and a missing file, are usage errors
    assert main(["import", "lm-eval", str(path), "--out", str(out)]) == 2
    assert main(["import", "inspect", str(tmp_path / "missing.eval"), "--out", str(tmp_path / "x")]) == 2
    assert main(["import"]) == 2
