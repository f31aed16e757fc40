"""Shared fixtures. Tests use the real GSM8K files beside the repo (../shared/data/gsm8k) and the real
SmolLM2-135M-Instruct model; nothing reaches a hub."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
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


@pytest.fixture(scope="session", autouse=True)
def session_results_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Runs finished by module- or session-scoped fixtures (set up before any function-scoped
    fixture) register into a throwaway SQLite file, never ./faithbench.db."""
    url = f"sqlite:///{tmp_path_factory.mktemp('results') / 'faithbench.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FAITHBENCH_DB", url)
        yield url


@pytest.fixture(autouse=True)
def results_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs finished by a test register into a SQLite file of its own, never ./faithbench.db."""
    url = f"sqlite:///{tmp_path / 'faithbench.db'}"
    monkeypatch.setenv("FAITHBENCH_DB", url)
    return url
