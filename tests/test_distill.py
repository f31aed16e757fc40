"""`faithbench distill` end to end offline: SmolLM2 as the teacher, 3 GSM8K train questions."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

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
        assert row["scores"] == by_id[row["id"]].scores
    # A distilled folder is SFT data.
    rows, provenance = sft_rows(DataSettings(source="distilled", path=str(keep_all)))
    assert provenance.n_examples == 3 and rows[0]["completion"][0]["content"] == traces[0]["completion"]
