"""`predictions:<file.jsonl>`: score completions made elsewhere. Each line is a JSON object with
`id` (a task item id such as `test-0`) and `completion`, optionally `reasoning`."""

from __future__ import annotations

import hashlib
from pathlib import Path

from faithbench.errors import DataError, where
from faithbench.harness.backends.base import BackendDefaults, Completion, GenerationConfig, Request
from faithbench.jsonl import parse_line, read_lines


class PredictionsBackend(BackendDefaults):
    def __init__(self, path: str) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise DataError(f"{self.path}: no such predictions file")
        digest = hashlib.sha256()
        self.lines: dict[str, int] = {}  # id -> 1-based line, for error messages
        self.completions: dict[str, Completion] = {}
        for number, line, ended in read_lines(self.path):
            digest.update(line + (b"\n" if ended else b""))
            if line.strip():
                self._add(number, line)
        self._identity = f"predictions:{self.path.resolve()}#{digest.hexdigest()[:16]}"
        if not self.completions:
            raise DataError(f"{self.path}: no predictions in file")

    def _add(self, number: int, line: bytes) -> None:
        row = parse_line(self.path, number, line)
        if not isinstance(row, dict):
            raise DataError(f"{where(self.path, number)}: expected a JSON object with 'id' and 'completion'")
        for field in ("id", "completion"):
            if field not in row:
                raise DataError(f"{where(self.path, number, field)}: missing")
        for field in ("id", "completion", "reasoning"):
            value = row.get(field)
            optional = field == "reasoning" and value is None
            if not isinstance(value, str) and not optional:
                got = "null" if value is None else type(value).__name__
                raise DataError(f"{where(self.path, number, field)}: must be a string, not {got}")
        if row["id"] in self.lines:
            first = self.lines[row["id"]]
            raise DataError(
                f"{where(self.path, number, 'id')}: duplicate id {row['id']!r} (first on line {first})"
            )
        self.lines[row["id"]] = number
        self.completions[row["id"]] = Completion(text=row["completion"], reasoning=row.get("reasoning"))

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def cacheable(self) -> bool:
        return False

    @property
    def ids(self) -> list[str]:
        return list(self.completions)

    def answerable_ids(self, known: set[str], task: str) -> set[str] | None:
        """The file's ids. Every prediction must belong to the task: a typo'd id is an error, not a
        silent skip."""
        for item_id, number in self.lines.items():
            if item_id not in known:
                raise DataError(f"{where(self.path, number, 'id')}: unknown id {item_id!r} for task {task!r}")
        return set(self.lines)

    def generate(self, requests: list[Request], config: GenerationConfig) -> list[Completion]:
        return [self.completions[r.id] for r in requests]
