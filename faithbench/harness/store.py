"""A run directory on disk: append-only samples, atomically replaced run.json and summary.json.

A kill can at worst leave a torn last line in samples.jsonl (a line without its newline); reading
drops it, so a rerun regenerates that one sample. Every other file is written to a temporary name
and renamed, so it is either the old or the new version, never half of one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from faithbench.errors import DataError, where
from faithbench.harness.migrate import is_legacy_sample, upgrade_sample
from faithbench.harness.schema import FORMAT_VERSION, RunInfo, SampleRecord, Summary

M = TypeVar("M", bound=BaseModel)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class RunDir:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def info_path(self) -> Path:
        return self.path / "run.json"

    @property
    def samples_path(self) -> Path:
        return self.path / "samples.jsonl"

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    def exists(self) -> bool:
        return self.info_path.is_file()

    def read_info(self) -> RunInfo:
        """run.json as written; `format_version` says the layout of the run's files (1 where run.json
        predates the field). A run written by a newer faithbench is refused rather than misread."""
        info = _read_model(self.info_path, RunInfo)
        if info.format_version > FORMAT_VERSION:
            raise DataError(
                f"{where(self.info_path, field='format_version')}: format {info.format_version} is newer "
                f"than this faithbench reads ({FORMAT_VERSION}); upgrade faithbench"
            )
        return info

    def write_info(self, info: RunInfo) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_atomic(self.info_path, info.model_dump_json(indent=2) + "\n")

    def read_summary(self) -> Summary:
        return _read_model(self.summary_path, Summary)

    def write_summary(self, summary: Summary) -> None:
        write_atomic(self.summary_path, summary.model_dump_json(indent=2) + "\n")

    def read_samples(self) -> list[SampleRecord]:
        """All finished samples. A torn last line (killed mid-write) is cut off the file."""
        if not self.samples_path.exists():
            return []
        data = self.samples_path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            with self.samples_path.open("r+b") as handle:
                handle.truncate(keep)
            data = data[:keep]
        return [self._sample(number, raw) for number, raw in enumerate(data.splitlines(), start=1)]

    def _sample(self, number: int, raw: bytes) -> SampleRecord:
        """One line as a record; a line of an earlier format is upgraded (faithbench.harness.migrate)."""
        try:
            return SampleRecord.model_validate_json(raw)
        except ValidationError as exc:
            error = exc
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if is_legacy_sample(data):
            try:
                return SampleRecord.model_validate(upgrade_sample(data)).with_scores({})
            except ValidationError as exc:
                error = exc
        raise DataError(f"{where(self.samples_path, number)}: not a valid sample ({_first(error)})") from None

    def append_samples(self, records: Iterable[SampleRecord]) -> None:
        lines = "".join(r.model_dump_json() + "\n" for r in records)
        if not lines:
            return
        with self.samples_path.open("a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def replace_samples(self, records: Iterable[SampleRecord]) -> None:
        write_atomic(self.samples_path, "".join(r.model_dump_json() + "\n" for r in records))


def _read_model(path: Path, model: type[M]) -> M:
    try:
        return model.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise DataError(f"{path}: no such file (is this a faithbench run directory?)") from None
    except ValidationError as exc:
        raise DataError(f"{path}: not a valid {model.__name__} ({_first(exc)})") from None


def _first(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"field {loc!r}: {err['msg']}" if loc else err["msg"]
