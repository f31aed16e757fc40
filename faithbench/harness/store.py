"""A run directory on disk: append-only samples, atomically replaced run.json and summary.json.

A kill can at worst leave a torn last line in samples.jsonl (a line without its newline); reading
drops it, so a rerun regenerates that one sample. Every other file is written to a temporary name
and renamed, so it is either the old or the new version, never half of one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from faithbench.errors import DataError, FaithbenchError, where
from faithbench.harness.migrate import is_legacy_sample, upgrade_sample
from faithbench.harness.schema import FORMAT_VERSION, RunInfo, SampleRecord, Summary
from faithbench.jsonl import parse_line, read_lines
from faithbench.sanitize import has_secret, redact_data

M = TypeVar("M", bound=BaseModel)

# One line of samples.jsonl: the prompt, the completion and the reasoning with their scores. Bigger
# than a predictions line may be (faithbench.jsonl.MAX_LINE_BYTES), so that every sample a run
# stores can be read back.
MAX_SAMPLE_LINE_BYTES = 256 * 2**20


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def dump_json(model: BaseModel, indent: int | None = None) -> str:
    """`model` as JSON with every credential redacted (faithbench.sanitize): whatever a model, a
    server or a spec carried in, no secret reaches a run file. The JSON is searched first; only a
    model holding one is rebuilt with its strings redacted."""
    text = model.model_dump_json(indent=indent)
    if not has_secret(text):
        return text
    clean = redact_data(model.model_dump(mode="json"))
    return type(model).model_validate(clean).model_dump_json(indent=indent)


def check_run_dir(path: Path) -> None:
    """Refuse, before anything is written, a path that cannot hold a run or holds something else: a
    file, device or dangling link; a parent that is a file; a name too long; a place that cannot be
    written; a folder of other files (a folder with run.json is a run, an empty one a new run)."""
    check_writable(path, "run directory")
    if path.is_dir() and not (path / "run.json").is_file():
        others = sorted(p.name for p in path.iterdir() if not _ours(p.name))
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise FaithbenchError(
                f"{path}: holds files ({shown}) but no run.json: not a faithbench run; give an empty or "
                "new directory"
            )


def check_writable(path: Path, what: str) -> None:
    """A one-line error for `path` (a run directory or output file to be made) if it cannot be one."""
    for part in path.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise FaithbenchError(f"{path}: the name {part[:40]!r}... is longer than {NAME_MAX} bytes")
    try:
        _check_writable(path, what)
    except OSError as exc:  # what stat itself refuses (a path too long, a loop of links)
        raise FaithbenchError(f"{path}: cannot be a {what} ({exc.strerror or exc})") from None


def _check_writable(path: Path, what: str) -> None:
    if path.is_symlink() and not path.exists():
        raise FaithbenchError(f"{path}: a dangling symbolic link, not a {what}")
    if path.exists() and what == "run directory" and not path.is_dir():
        raise FaithbenchError(f"{path}: exists and is not a directory")
    if path.exists() and what != "run directory" and not path.is_file():
        raise FaithbenchError(f"{path}: exists and is not a regular file")
    ancestor = _existing(path if path.exists() and path.is_dir() else path.parent)
    if not ancestor.is_dir():
        raise FaithbenchError(f"{path}: {ancestor} is a file, not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise FaithbenchError(f"{path}: {ancestor} is not writable (read-only or not yours)")


def _existing(path: Path) -> Path:
    """`path` or its nearest ancestor that exists."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def _ours(name: str) -> bool:
    """Files faithbench itself leaves in a run directory before its run.json: the lock, temporaries."""
    return name == LOCK_NAME or (name.startswith(".") and ".tmp-" in name)


class RunLockedError(FaithbenchError):
    """Another process holds the lock of the run directory (RunDir.writing)."""


# the run directories whose lock this process holds (resolved paths)
_HELD: set[str] = set()
LOCK_NAME = ".lock"
NAME_MAX = 255  # bytes in one file name, on Linux and macOS file systems


class RunDir:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lines: dict[str, int] = {}  # sample id -> its line, as last read by read_samples

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
        with self.writing():
            write_atomic(self.info_path, dump_json(info, indent=2) + "\n")

    def read_summary(self) -> Summary:
        return _read_model(self.summary_path, Summary)

    def write_summary(self, summary: Summary) -> None:
        with self.writing():
            write_atomic(self.summary_path, dump_json(summary, indent=2) + "\n")

    def read_samples(self, strict: bool = False) -> list[SampleRecord]:
        """All finished samples. A line that is not a sample, or a second line for one id, is a
        DataError naming the line: a run holds each sample once. A torn last line (a writer killed
        mid-line) is not a finished sample: it is skipped, and cut off the file unless another
        process holds the run's lock (`writing`), so that the next sample starts on a line of its
        own; `strict` makes it an error instead (`score` on a run that should be whole)."""
        if not self.samples_path.exists():
            return []
        records: list[SampleRecord] = []
        self.lines = {}
        end = 0  # bytes of the file up to the last whole line
        for number, raw, ended in read_lines(self.samples_path, MAX_SAMPLE_LINE_BYTES):
            if not ended:
                if strict:
                    raise DataError(
                        f"{where(self.samples_path, number)}: torn last line (a writer was killed "
                        "mid-line); rerun the `faithbench eval` command of this run to complete it"
                    )
                self._cut(end)
                break
            end += len(raw) + 1
            if not raw.strip():
                continue
            record = self._sample(number, raw)
            if record.id in self.lines:
                raise DataError(
                    f"{where(self.samples_path, number, 'id')}: duplicate id {record.id!r} (first on line "
                    f"{self.lines[record.id]}); a run holds each sample once"
                )
            self.lines[record.id] = number
            records.append(record)
        return records

    def _cut(self, end: int) -> None:
        """Cut a torn last line off samples.jsonl, unless another process is writing the run (its
        line is not torn but being written) or the run cannot be written (a read-only copy)."""
        try:
            with self.writing(), self.samples_path.open("r+b") as handle:
                handle.truncate(end)
        except (RunLockedError, OSError):
            pass

    @contextmanager
    def writing(self) -> Iterator[RunDir]:
        """Hold the run's lock while writing it: one writer per run directory at a time, whatever
        the command (eval, score, intervene, import). The lock is an advisory lock on `.lock` in
        the directory (made if missing), released when the process ends, however it ends; another
        process asking for it is refused at once with a RunLockedError. Re-entrant in a process."""
        key = self._key()
        if key in _HELD:
            yield self
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLockedError(
                f"{self.path}: another faithbench process is writing this run; wait for it to "
                "finish (one writer per run directory)"
            ) from None
        _HELD.add(key)
        try:
            yield self
        finally:
            _HELD.discard(key)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def locked(self) -> bool:
        """Whether this process holds the run's lock."""
        return self._key() in _HELD

    def _key(self) -> str:
        return str(self.path.resolve())

    def _sample(self, number: int, raw: bytes) -> SampleRecord:
        """One line as a record; a line of an earlier format is upgraded (faithbench.harness.migrate)."""
        data = parse_line(self.samples_path, number, raw)
        try:
            return SampleRecord.model_validate(data)
        except ValidationError as exc:
            error = exc
        if is_legacy_sample(data):
            try:
                return SampleRecord.model_validate(upgrade_sample(data)).with_scores({})
            except ValidationError as exc:
                error = exc
        raise DataError(f"{where(self.samples_path, number)}: not a valid sample ({_first(error)})") from None

    def append_samples(self, records: Iterable[SampleRecord]) -> None:
        lines = "".join(dump_json(r) + "\n" for r in records)
        if not lines:
            return
        with self.writing(), self.samples_path.open("a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def replace_samples(self, records: Iterable[SampleRecord]) -> None:
        text = "".join(dump_json(r) + "\n" for r in records)
        with self.writing():
            write_atomic(self.samples_path, text)


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
