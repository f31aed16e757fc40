"""The results registry: finished runs and their per-metric summaries, behind a SQLAlchemy URL.

Which database: the explicit `db` argument, else `$FAITHBENCH_DB`, else `sqlite:///faithbench.db` (a
SQLite file in the working directory). A value without `://` is a path to a SQLite file. Any URL
SQLAlchemy 2 can open works; SQLite and PostgreSQL (`postgresql+psycopg://...`, the `postgres` extra)
are the tested ones. Tables are created on first use.

    runs            one row per run directory (absolute path, unique): label, model, model identity,
                    task, data hash, sample count, run creation time, registration time, and the
                    run's summary.json as JSON text
    metric_results  one row per (run, metric): mean, 95% CI, n scored, n unscored, CI method

Registering a path again replaces its row and metric rows (idempotent). Only the run's own
summary and identifying fields are stored: nothing from the environment, no credentials.
Times are ISO-8601 UTC strings, as in run.json.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import Engine, Float, ForeignKey, Integer, String, Text, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from faithbench.errors import FaithbenchError
from faithbench.harness.schema import MetricSummary, Summary
from faithbench.harness.store import RunDir, dump_json
from faithbench.sanitize import redact

ENV_VAR = "FAITHBENCH_DB"
DEFAULT_URL = "sqlite:///faithbench.db"


class DatabaseError(FaithbenchError):
    """The results database could not be opened, read or written. The message names the URL with
    any password masked; `url` holds that masked form."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"results database {url}: {reason}")


class Base(DeclarativeBase):
    pass


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    label: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(Text)
    model_identity: Mapped[str] = mapped_column(Text)
    task: Mapped[str] = mapped_column(String(255), index=True)
    data_sha256: Mapped[str] = mapped_column(String(64))
    n_samples: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[str] = mapped_column(String(40))
    registered_at: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str] = mapped_column(Text)
    metrics: Mapped[list[MetricRow]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="MetricRow.metric"
    )


class MetricRow(Base):
    __tablename__ = "metric_results"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(255), primary_key=True)
    mean: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    n_unscored: Mapped[int] = mapped_column(Integer)
    ci_method: Mapped[str] = mapped_column(String(64))
    run: Mapped[RunRow] = relationship(back_populates="metrics")


class RegisteredRun(BaseModel):
    """A run as the registry holds it."""

    id: int
    path: str
    label: str
    model: str
    model_identity: str
    task: str
    data_sha256: str
    n_samples: int
    created_at: str
    registered_at: str
    summary: Summary

    @property
    def metrics(self) -> dict[str, MetricSummary]:
        return self.summary.metrics


def resolve_db_url(db: str | os.PathLike[str] | None = None) -> str:
    """The database URL: `db`, else $FAITHBENCH_DB, else sqlite:///faithbench.db; a plain path
    (no `://`) becomes an absolute SQLite URL."""
    chosen = os.fspath(db) if db is not None else os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in chosen:
        return f"sqlite:///{Path(chosen).expanduser().resolve()}"
    return chosen


def safe_url(url: str) -> str:
    """`url` with any password replaced by ***, fit for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparsable: mask whatever sits between user: and @
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def open_engine(db: str | os.PathLike[str] | None = None) -> Engine:
    """An engine on the resolved URL with the tables created. The caller disposes of it."""
    url = resolve_db_url(db)
    with _errors(url):
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        try:
            _create_tables(engine)
        except BaseException:
            engine.dispose()
            raise
        return engine


# Tries at creating the tables: each retry sees the tables a concurrent creator made meanwhile.
_CREATE_TRIES = 5


def _create_tables(engine: Engine) -> None:
    """Create the tables that are missing, tolerating another process creating them at the same
    moment. `create_all` checks, then creates: two processes opening a fresh database both see no
    table, and the slower one's CREATE fails ("table runs already exists" on SQLite, a unique
    violation on PostgreSQL). Trying again checks afresh and finds the tables there."""
    for attempt in range(1, _CREATE_TRIES + 1):
        try:
            Base.metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == _CREATE_TRIES:
                raise
            time.sleep(0.05 * attempt)


def register_run(
    run_path: str | os.PathLike[str], db: str | os.PathLike[str] | None = None, label: str | None = None
) -> RegisteredRun:
    """Record a finished run (or refresh its record: the absolute path is the key).

    `label` defaults to the run directory's name; re-registering without one keeps the old label.
    Raises FaithbenchError for a run that is missing or not finished, DatabaseError for the database.
    """
    run = RunDir(Path(run_path).expanduser().resolve())
    info = run.read_info()
    if info.status != "finished":
        raise FaithbenchError(
            f"{run.path}: run status is {info.status!r}, not 'finished' (interrupted or still running); "
            "rerun the same `faithbench eval` command to finish it, then register it"
        )
    summary = run.read_summary()
    url = resolve_db_url(db)
    # a run written before faithbench redacted its files may still hold a credential in its spec
    summary = Summary.model_validate_json(dump_json(summary))
    values: dict[str, object] = {
        "model": redact(info.model),
        "model_identity": redact(info.model_identity),
        "task": info.task,
        "data_sha256": info.data.sha256,
        "n_samples": summary.n_samples,
        "created_at": info.created_at,
        "registered_at": _now(),
        "summary": summary.model_dump_json(),
    }
    label = redact(label) if label else None
    with _session(url) as session:
        try:
            row = _upsert(session, str(run.path), label, values, summary)
        except IntegrityError:  # a concurrent first registration of the same path won: update it
            session.rollback()
            row = _upsert(session, str(run.path), label, values, summary)
        return _registered(row)


def _upsert(
    session: Session, path: str, label: str | None, values: dict[str, object], summary: Summary
) -> RunRow:
    row = session.scalars(select(RunRow).where(RunRow.path == path)).one_or_none()
    if row is None:
        row = RunRow(path=path, label=label or Path(path).name, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        if label:
            row.label = label
        row.metrics.clear()
        session.flush()  # the old metric rows go before new ones with the same keys arrive
    row.metrics.extend(_metric_row(name, m) for name, m in summary.metrics.items())
    session.commit()
    return row


def list_runs(db: str | os.PathLike[str] | None = None, task: str | None = None) -> list[RegisteredRun]:
    """Every registered run (of `task`, if given), oldest registration first."""
    url = resolve_db_url(db)
    with _session(url) as session:
        query = select(RunRow).order_by(RunRow.registered_at, RunRow.id)
        if task is not None:
            query = query.where(RunRow.task == task)
        return [_registered(row) for row in session.scalars(query)]


def unregister_run(run_path: str | os.PathLike[str], db: str | os.PathLike[str] | None = None) -> bool:
    """Forget a run (its directory is not touched). True if it was registered."""
    url = resolve_db_url(db)
    path = str(Path(run_path).expanduser().resolve())
    with _session(url) as session:
        row = session.scalars(select(RunRow).where(RunRow.path == path)).one_or_none()
        if row is None:
            return False
        session.delete(row)
        session.commit()
        return True


@contextmanager
def _errors(url: str) -> Iterator[None]:
    """Turn driver and SQLAlchemy failures into one-line DatabaseErrors naming the masked URL."""
    try:
        yield
    except (SQLAlchemyError, ImportError) as exc:
        raise DatabaseError(safe_url(url), _reason(exc)) from exc


@contextmanager
def _session(url: str) -> Iterator[Session]:
    engine = open_engine(url)
    try:
        with _errors(url), Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip() or type(exc).__name__
    return f"{type(orig or exc).__name__}: {text.splitlines()[0]}"


def _metric_row(name: str, m: MetricSummary) -> MetricRow:
    return MetricRow(
        metric=name,
        mean=m.mean,
        ci_low=m.ci_low,
        ci_high=m.ci_high,
        n=m.n,
        n_unscored=m.n_unscored,
        ci_method=m.ci_method,
    )


def _registered(row: RunRow) -> RegisteredRun:
    return RegisteredRun(
        id=row.id,
        path=row.path,
        label=row.label,
        model=row.model,
        model_identity=row.model_identity,
        task=row.task,
        data_sha256=row.data_sha256,
        n_samples=row.n_samples,
        created_at=row.created_at,
        registered_at=row.registered_at,
        summary=Summary.model_validate_json(row.summary),
    )


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
