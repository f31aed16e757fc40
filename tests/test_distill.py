"""`faithbench distill` end to end offline: SmolLM2 as the teacher, 3 GSM8K train questions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import pytest
from conftest import ChatJudge

from faithbench.cli import main
from faithbench.harness.store import RunDir
from faithbench.trainers.data import sft_rows
from faithbench.trainers.distill import DistilledTrace, FilterReport
from faithbench.trainers.recipe import DataSettings

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def report_of(out: Path) -> FilterReport:
    return FilterReport.model_validate_json((out / "filter_report.json").read_bytes())


@pytest.mark.slow
def test_distill_offline(tmp_path: Path) -> None:
    strict, keep_all = tmp_path / "strict", tmp_path / "all"
    args = ["distill", "--teacher", "smollm2", "--limit", "3", "--max-new-tokens", "64", "--quiet"]
    assert main([*args, "--out", str(strict), "--filter", str(CONFIGS / "distill" / "faithful.yaml")]) == 0

    report = report_of(strict)
    assert report.n_traces == 3
    assert report.n_kept + sum(report.dropped.values()) == 3
    assert sum(len(ids) for ids in report.dropped_ids.values()) == 3 - report.n_kept
    kept = [
        DistilledTrace.model_validate_json(line) for line in (strict / "kept.jsonl").read_text().splitlines()
    ]
    assert len(kept) == report.n_kept == len(datasets.load_from_disk(str(strict / "dataset")))
    records = RunDir(strict / "teacher").read_samples()
    assert sorted(r.id for r in records) == ["train-0", "train-1", "train-2"]

    # The same traces come from the response cache under a filter that keeps everything.
    permissive = tmp_path / "keep-all.yaml"
    permissive.write_text("require: {}\ndedup: question\n")
    assert main([*args, "--out", str(keep_all), "--filter", str(permissive)]) == 0
    assert report_of(keep_all).n_kept == 3
    traces = [json.loads(line) for line in (keep_all / "kept.jsonl").read_text().splitlines()]
    by_id = {r.id: r for r in records}
    for row in traces:
        assert row["teacher"] == "smollm2" and row["task"] == "gsm8k-train"
        assert row["completion"] == by_id[row["id"]].completion.strip()
        assert row["scores"] == {name: s.value for name, s in by_id[row["id"]].scores.items()}
    # A distilled folder is SFT data.
    rows, provenance = sft_rows(DataSettings(source="distilled", path=str(keep_all)))
    assert provenance.n_examples == 3 and rows[0]["completion"][0]["content"] == traces[0]["completion"]


def test_distill_with_a_judge_filters_on_its_verdicts(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], chat_judge: ChatJudge
) -> None:
    """The teacher is a predictions file (the first 4 GSM8K train references), the judge a real local
    HTTP server speaking the chat API; the filter requires the rule metrics and judge_validity 0.75."""
    rows = [json.loads(line) for line in (data_dir / "train.jsonl").read_text().splitlines()[:4]]
    teacher = tmp_path / "teacher.jsonl"
    teacher.write_text(
        "".join(
            json.dumps({"id": f"train-{i}", "completion": re.sub(r"<<[^>]*>>", "", row["answer"])}) + "\n"
            for i, row in enumerate(rows)
        )
    )
    chat_judge.low.add(rows[1]["question"])
    chat_judge.unreadable.add(rows[2]["question"])
    rules = tmp_path / "judged.yaml"
    faithful = (CONFIGS / "distill" / "faithful.yaml").read_text()
    rules.write_text(faithful.replace("require:\n", "require:\n  judge_validity: 0.75\n", 1))
    out = tmp_path / "judged"
    judge = chat_judge.spec
    args = ["distill", "--teacher", f"predictions:{teacher}", "--limit", "4", "--out", str(out)]
    extra = ["--filter", str(rules), "--judge", judge, "--data-dir", str(data_dir), "--quiet"]
    assert main([*args, *extra]) == 0
    report = report_of(out)
    assert report.n_traces == 4 and report.n_kept + sum(report.dropped.values()) == 4
    assert report.dropped_ids["judge_validity < 0.75"] == ["train-1"]
    assert report.dropped_ids["judge_validity unscored"] == ["train-2"]
    assert report.n_kept == 2 and report.failing["judge_validity"] == 2
    kept = [json.loads(line) for line in (out / "kept.jsonl").read_text().splitlines()]
    assert [row["scores"]["judge_validity"] for row in kept] == [0.75, 0.75]

    no_judge = ["distill", "--teacher", f"predictions:{teacher}", "--out", str(tmp_path / "x"), "--quiet"]
    assert main([*no_judge, "--filter", str(rules), "--data-dir", str(data_dir)]) != 0
    assert "['judge_validity'] need a judge (--judge SPEC)" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # refused before the teacher was asked
