"""What several commands share: one definition of each common option, output writing, run printing,
and recording a finished run in the results database.

Light on purpose: the parser of every command is built from this module on each `faithbench` call,
so the run store, the reports and SQLAlchemy load only inside the functions that use them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO, TypeAlias

# the `COMMAND` choices of `faithbench`; each command module adds its own
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

DB_HELP = (
    "results database: a SQLAlchemy URL (sqlite:///file.db, postgresql+psycopg://user@host/db) "
    "or a SQLite file path (default: $FAITHBENCH_DB, else sqlite:///faithbench.db in the working directory)"
)
METRICS_HELP = "comma-separated metric names (default: all rule metrics)"


def comma_list(text: str) -> list[str]:
    """`a, b,c` -> ['a', 'b', 'c'] for options that take several names."""
    return [n.strip() for n in text.split(",") if n.strip()]


def out_path(text: str) -> Path:
    """An output path option (`--out`, `--report`): `~` expanded, an empty one refused (it would
    mean the working directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give a file or directory name")
    return Path(text).expanduser()


def add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help=DB_HELP)


def add_register(parser: argparse.ArgumentParser) -> None:
    """`--db` and `--no-register`, for commands that record the run they finish or update."""
    add_db(parser)
    parser.add_argument(
        "--no-register", action="store_true", help="do not record the run in the results database"
    )


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", help="folder with GSM8K JSONL files (else $FAITHBENCH_DATA_DIR, else the hub)"
    )


def add_no_cache(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-cache", action="store_true", help="bypass the response cache")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_metrics(parser: argparse.ArgumentParser, help: str = METRICS_HELP) -> None:
    """`--metrics a,b`; `help` only where the default differs (compare's: what the runs share)."""
    parser.add_argument("--metrics", type=comma_list, help=help)


def usage(parser: argparse.ArgumentParser) -> int:
    """What a command group (`import`, `train`) does when called without its subcommand."""
    parser.print_help()
    return 2


def write_output(path: Path, text: str, stream: TextIO | None = None) -> None:
    """Write `text` to `path` atomically (parents made) and say so on `stream` (default stderr). Any
    credential in it (a run written before faithbench redacted its files) is redacted."""
    from faithbench.errors import FaithbenchError
    from faithbench.harness.store import check_writable, write_atomic
    from faithbench.sanitize import redact

    check_writable(path, "file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, redact(text))
    except OSError as exc:  # what the checks could not foresee (a full disk, say): one line, no traceback
        raise FaithbenchError(f"{path}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {path}", file=stream or sys.stderr)


def print_run(path: Path) -> None:
    """A run's summary table and where its files are."""
    from faithbench.harness.store import RunDir
    from faithbench.reports import summary_table

    run = RunDir(path)
    print(summary_table(run.read_summary()))
    print(f"\nrun:     {run.path}\nsamples: {run.samples_path}\nsummary: {run.summary_path}")


def register_finished(path: Path, db: str | None) -> None:
    """Record a finished run in the results database. A database failure only warns: the run is safe
    on disk and `faithbench register RUN` can record it later."""
    from sqlalchemy.exc import SQLAlchemyError

    from faithbench.leaderboard.db import DatabaseError, register_run, resolve_db_url, safe_url

    try:
        register_run(path, db)
    except (DatabaseError, SQLAlchemyError) as exc:
        reason = exc.reason if isinstance(exc, DatabaseError) else str(exc).splitlines()[0]
        print(
            f"faithbench: warning: run not registered in {safe_url(resolve_db_url(db))}: {reason}; "
            f"it is saved in {path}; record it later with `faithbench register {path}`",
            file=sys.stderr,
        )
