"""GSM8K rows from a local folder (JSONL, read and checked line by line) or the hub (HF `datasets`).

Resolution order: an explicit `data_dir`, then `FAITHBENCH_DATA_DIR`, then the hub (`openai/gsm8k`).
A local folder holds the hub's files as JSONL: `train.jsonl`, `test.jsonl`, and `<split>_socratic.jsonl`
for the socratic subset. Row i of a split has the id `<split>-<i>`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from faithbench.errors import DataError, where
from faithbench.jsonl import parse_line

HUB_DATASET = "openai/gsm8k"


class DataInfo(BaseModel):
    """Where a split came from and a hash of its exact content (goes into run.json)."""

    source: str
    subset: str
    split: str
    sha256: str
    n_rows: int


@dataclass(frozen=True)
class Row:
    index: int
    question: str
    answer: str


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The local data folder to use, or None for the hub."""
    chosen = data_dir if data_dir is not None else os.environ.get("FAITHBENCH_DATA_DIR") or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        origin = "--data-dir" if data_dir is not None else "FAITHBENCH_DATA_DIR"
        raise DataError(f"{origin} {str(path)!r} is not a folder")
    return path


def local_file(data_dir: Path, subset: str, split: str) -> Path:
    return data_dir / (f"{split}.jsonl" if subset == "main" else f"{split}_{subset}.jsonl")


def load_rows(
    subset: str, split: str, data_dir: str | os.PathLike[str] | None = None
) -> tuple[list[Row], DataInfo]:
    folder = resolve_data_dir(data_dir)
    if folder is not None:  # a local JSONL file is read as it is checked: no `datasets` import, no Arrow
        path = local_file(folder, subset, split)
        if not path.is_file():
            raise DataError(f"{path}: no such file (expected GSM8K {subset}/{split} as JSONL)")
        checked = _check_jsonl(path)
        rows = [Row(i, r["question"], r["answer"]) for i, r in enumerate(checked)]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return rows, DataInfo(
            source=str(path.resolve()), subset=subset, split=split, sha256=digest, n_rows=len(rows)
        )
    import datasets  # slow import: only when the hub is asked

    datasets.disable_progress_bars()
    try:
        dataset = datasets.load_dataset(HUB_DATASET, subset, split=split)
    except (ConnectionError, OSError) as exc:
        raise DataError(
            f"could not load {HUB_DATASET} ({subset}/{split}) from the hub: {exc}. "
            "Pass --data-dir or set FAITHBENCH_DATA_DIR to a folder with GSM8K JSONL files."
        ) from None
    source, digest = f"hub:{HUB_DATASET}/{subset}", str(dataset._fingerprint)
    rows = [Row(i, r["question"], r["answer"]) for i, r in enumerate(dataset)]
    return rows, DataInfo(source=source, subset=subset, split=split, sha256=digest, n_rows=len(rows))


def _check_jsonl(path: Path) -> list[dict[str, str]]:
    """The rows of a GSM8K JSONL file; a bad row is an error naming the file, line and field."""
    rows: list[dict[str, str]] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                raise DataError(f"{where(path, number)}: empty line")
            row = parse_line(path, number, raw)
            for field in ("question", "answer"):
                if not isinstance(row, dict) or not isinstance(row.get(field), str):
                    raise DataError(f"{where(path, number, field)}: missing or not a string")
            if "####" not in row["answer"]:
                raise DataError(f"{where(path, number, 'answer')}: has no '#### <answer>' line")
            rows.append(row)
    return rows
