"""Shared fixtures. Tests use the real GSM8K files beside the repo (../shared/data/gsm8k) and the real
SmolLM2-135M-Instruct model; nothing reaches a hub."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "gsm8k"
DATA_DIR = Path(os.environ.get("FAITHBENCH_DATA_DIR") or SHARED_DATA)

if not (DATA_DIR / "test.jsonl").is_file():  # pragma: no cover - depends on the machine
    raise pytest.UsageError(f"GSM8K data not found in {DATA_DIR}; set FAITHBENCH_DATA_DIR")
os.environ["FAITHBENCH_DATA_DIR"] = str(DATA_DIR)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def test_rows(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / "test.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]
