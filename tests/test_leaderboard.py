"""Results registry and leaderboard, on real runs made by the real runner from GSM8K reference
solutions (some answers made wrong), in SQLite and (slow) in a throwaway PostgreSQL server."""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from faithbench.cli.leaderboard import add_commands as add_leaderboard_commands
from faithbench.errors import DataError, FaithbenchError
from faithbench.harness.runner import EvalConfig, run_eval
from faithbench.harness.store import RunDir
from faithbench.leaderboard import (
    Leaderboard,
    build_leaderboard,
    list_runs,
    register_run,
    resolve_db_url,
    unpaired_p,
)
from faithbench.leaderboard.db import MetricRow, RunRow
from faithbench.reports.leaderboard import format_leaderboard

N_ITEMS = 60
FLIPS = {"perfect": 0, "flip2": 2, "flip40": 40, "flip41": 41}  # the first k answers made wrong


def predictions(test_rows: list[dict[str, str]], n: int, wrong: int = 0) -> list[dict[str, str]]:
    """GSM8K reference solutions (calculator annotations removed); the first `wrong` end in N + 1."""
    out = []
    for i, row in enumerate(test_rows[:n]):
        text = re.sub(r"<<[^>]*>>", "", row["answer"])
        if i < wrong:
            text = re.sub(r"#### (.+)$", lambda m: f"#### {int(m.group(1).replace(',', '')) + 1}", text)
        out.append({"id": f"test-{i}", "completion": text})
    return out


def make_run(folder: Path, name: str, rows: list[dict[str, str]], db: str | None, **config: object) -> Path:
    """A run of `rows` as predictions, recorded in `db` (as `faithbench eval` does: the library does
    not register; tests/test_cli_register.py covers the command's registration)."""
    preds = folder / f"{name}.jsonl"
    preds.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run = run_eval(EvalConfig(model=f"predictions:{preds}", out=folder / name, progress=False, **config))  # type: ignore[arg-type]
    register_run(run.path, db=db)
    return run.path


@dataclass(frozen=True)
class Board:
    url: str  # the database the runs are registered in
    runs: dict[str, Path]


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory, test_rows: list[dict[str, str]]) -> Board:
    folder = tmp_path_factory.mktemp("board")
    url = f"sqlite:///{folder / 'board.db'}"
    runs = {
        name: make_run(folder, name, predictions(test_rows, N_ITEMS, k), db=url) for name, k in FLIPS.items()
    }
    return Board(url, runs)


def fresh_db(tmp_path: Path, name: str = "fresh.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def count_rows(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            runs = conn.scalar(select(func.count()).select_from(RunRow))
            metrics = conn.scalar(select(func.count()).select_from(MetricRow))
    finally:
        engine.dispose()
    return int(runs or 0), int(metrics or 0)


# ------------------------------------------------------------------------------------- registry


def test_eval_registers_the_finished_run(board: Board) -> None:
    runs = {r.label: r for r in list_runs(board.url)}
    assert set(runs) == set(FLIPS)
    for name, k in FLIPS.items():
        run = runs[name]
        assert run.path == str(board.runs[name].resolve()) and run.task == "gsm8k"
        assert run.n_samples == N_ITEMS and run.model.startswith("predictions:")
        assert run.model_identity.startswith("predictions:") and len(run.data_sha256) == 64
        assert run.summary == RunDir(run.path).read_summary()
        assert run.metrics["accuracy"].mean == pytest.approx((N_ITEMS - k) / N_ITEMS)


def check_registration_is_idempotent(board: Board, url: str) -> None:
    first = [register_run(board.runs[name], db=url) for name in FLIPS]
    counts = count_rows(url)
    assert counts == (4, 4 * len(first[0].summary.metrics))
    again = [register_run(board.runs[name], db=url) for name in FLIPS]
    assert [r.id for r in again] == [r.id for r in first]
    assert all(b.registered_at >= a.registered_at for a, b in zip(first, again, strict=True))
    assert count_rows(url) == counts
    assert [r.label for r in list_runs(url)] == list(FLIPS)


def test_registration_is_idempotent(board: Board, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = fresh_db(tmp_path)
    check_registration_is_idempotent(board, url)
    # the key is the absolute path: a relative path to the same run is the same run
    ids = {r.label: r.id for r in list_runs(url)}
    monkeypatch.chdir(board.runs["flip2"].parent)
    assert register_run("flip2", db=url).id == ids["flip2"]
    # a label sticks until another is given
    assert register_run(board.runs["flip2"], db=url, label="two wrong").label == "two wrong"
    assert register_run(board.runs["flip2"], db=url).label == "two wrong"
    assert count_rows(url)[0] == 4


def test_database_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, results_db: str) -> None:
    assert resolve_db_url(None) == results_db  # the conftest points FAITHBENCH_DB at tmp_path
    assert resolve_db_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert resolve_db_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    monkeypatch.chdir(tmp_path)
    assert resolve_db_url("rel/x.db") == f"sqlite:///{tmp_path / 'rel' / 'x.db'}"
    monkeypatch.delenv("FAITHBENCH_DB")
    assert resolve_db_url(None) == "sqlite:///faithbench.db"


def test_unfinished_or_missing_runs_are_refused(board: Board, tmp_path: Path) -> None:
    url = fresh_db(tmp_path)
    run = tmp_path / "unfinished"
    shutil.copytree(board.runs["perfect"], run)
    info = json.loads((run / "run.json").read_text())
    info["status"] = "running"
    (run / "run.json").write_text(json.dumps(info))
    with pytest.raises(FaithbenchError, match="status is 'running', not 'finished'"):
        register_run(run, db=url)
    with pytest.raises(DataError, match="no such file"):
        register_run(tmp_path / "nothing-here", db=url)
    assert list_runs(url) == []


# ------------------------------------------------------------------------------------- ranking


def check_board(board: Board, url: str) -> Leaderboard:
    lb = build_leaderboard(db=url, task="gsm8k", metric="accuracy")
    assert [e.label for e in lb.entries] == ["perfect", "flip2", "flip40", "flip41"]
    assert [e.rank for e in lb.entries] == [1, 2, 3, 4]
    assert [e.group for e in lb.entries] == [1, 1, 2, 2]
    assert [e.paired for e in lb.entries] == [None, True, None, True]
    assert [e.test for e in lb.entries] == [None, "mcnemar-exact", None, "mcnemar-exact"]
    # exact McNemar: 2 discordant pairs all one way -> p = 2 * 0.5^2; flip41 vs flip40: 1 pair -> 1
    assert [e.p_vs_group_leader for e in lb.entries] == [None, pytest.approx(0.5), None, pytest.approx(1.0)]
    for e in lb.entries:
        stored = RunDir(e.path).read_summary().metrics["accuracy"]
        assert (e.mean, e.ci_low, e.ci_high, e.n) == (stored.mean, stored.ci_low, stored.ci_high, stored.n)
    assert lb.notes == []
    return lb


def test_ranking_and_groups(board: Board) -> None:
    check_board(board, board.url)
    assert build_leaderboard(db=board.url, task="gsm8k-fewshot").entries == []


def test_unpaired_fallback_when_a_run_directory_is_gone(board: Board, tmp_path: Path) -> None:
    from statsmodels.stats.proportion import proportions_ztest

    url = fresh_db(tmp_path)
    register_run(board.runs["perfect"], db=url)
    for name in ("flip2", "flip40", "flip41"):
        shutil.copytree(board.runs[name], tmp_path / name)
        register_run(tmp_path / name, db=url)
    shutil.rmtree(tmp_path / "flip2")
    lb = build_leaderboard(db=url, metric="accuracy")
    by = {e.label: e for e in lb.entries}
    assert [e.label for e in lb.entries] == ["perfect", "flip2", "flip40", "flip41"]
    assert (by["flip2"].paired, by["flip2"].test, by["flip2"].group) == (False, "two-proportion-z", 1)
    _, expected = proportions_ztest([N_ITEMS, N_ITEMS - 2], [N_ITEMS, N_ITEMS])
    assert by["flip2"].p_vs_group_leader == pytest.approx(expected, rel=1e-9)
    assert [e.group for e in lb.entries] == [1, 1, 2, 2]
    assert (by["flip41"].paired, by["flip41"].test) == (True, "mcnemar-exact")  # both directories exist
    assert len(lb.notes) == 1 and "flip2 vs perfect" in lb.notes[0] and "is gone" in lb.notes[0]


def test_unpaired_p_matches_reference_tests() -> None:
    from scipy.stats import norm
    from statsmodels.stats.proportion import proportions_ztest

    from faithbench.stats import Z95, summarize

    a = summarize([1.0] * 70 + [0.0] * 30, binary=True)
    b = summarize([1.0] * 55 + [0.0] * 45, binary=True)
    p, test = unpaired_p(a, b, binary=True)
    assert test == "two-proportion-z" and p == pytest.approx(proportions_ztest([70, 55], [100, 100])[1])
    c = summarize([0.9, 0.8, 0.7, 1.0] * 20, binary=False)
    d = summarize([0.6, 0.8, 0.5, 1.0] * 20, binary=False)
    assert c.ci_low is not None and c.ci_high is not None and d.ci_low is not None and d.ci_high is not None
    se = ((c.ci_high - c.ci_low) ** 2 + (d.ci_high - d.ci_low) ** 2) ** 0.5 / (2 * Z95)
    p, test = unpaired_p(c, d, binary=False)
    assert c.mean is not None and d.mean is not None
    assert test == "welch-z" and p == pytest.approx(2 * norm.sf(abs(c.mean - d.mean) / se))
    assert unpaired_p(a, a, binary=True)[0] == 1.0
    perfect = summarize([1.0] * 10, binary=True)
    assert unpaired_p(perfect, perfect, binary=True)[0] == 1.0


def test_a_continuous_metric_is_ranked_with_the_paired_permutation_test(
    board: Board, tmp_path: Path, test_rows: list[dict[str, str]]
) -> None:
    def wrong_step(text: str) -> str:  # the first equation's result made wrong
        return re.sub(r"= ?\$?(\d+)", lambda m: f"= {int(m.group(1)) + 7}", text, count=1)

    url = fresh_db(tmp_path)
    register_run(board.runs["perfect"], db=url)
    for k in (2, 20):
        rows = predictions(test_rows, N_ITEMS)
        for row in rows[:k]:
            row["completion"] = wrong_step(row["completion"])
        make_run(tmp_path, f"steps{k}", rows, db=url)
    lb = build_leaderboard(db=url, metric="step_arithmetic")
    assert [(e.label, e.group, e.paired, e.test) for e in lb.entries] == [
        ("perfect", 1, None, None),
        ("steps2", 1, True, "sign-flip-permutation"),
        ("steps20", 2, None, None),
    ]
    assert lb.entries[1].p_vs_group_leader is not None and lb.entries[1].p_vs_group_leader > 0.2


def test_runs_without_the_metric_are_left_out_with_a_note(
    board: Board, tmp_path: Path, test_rows: list[dict[str, str]]
) -> None:
    url = fresh_db(tmp_path)
    register_run(board.runs["perfect"], db=url)
    make_run(tmp_path, "acc-only", predictions(test_rows, 10), db=url, metrics=["accuracy"])
    lb = build_leaderboard(db=url, metric="step_arithmetic")
    assert [e.label for e in lb.entries] == ["perfect"]
    assert len(lb.notes) == 1 and lb.notes[0].startswith("acc-only left out: no 'step_arithmetic'")
    # on accuracy both are perfect: the larger run ranks first; paired over the 10 shared items
    lb = build_leaderboard(db=url, metric="accuracy")
    assert [(e.label, e.group, e.paired, e.p_vs_group_leader) for e in lb.entries] == [
        ("perfect", 1, None, None),
        ("acc-only", 1, True, 1.0),
    ]


# ------------------------------------------------------------------------------------- formats


def test_every_format_renders(board: Board) -> None:
    lb = build_leaderboard(db=board.url, metric="accuracy", task="gsm8k")

    table = format_leaderboard(lb, "table").splitlines()
    assert table[0] == "gsm8k | accuracy | alpha 0.05"
    header, rows = table[1], table[2:]
    assert header.split()[:3] == ["rank", "group", "run"] and len(rows) == 4
    ci_end = header.index("95% CI") + len("95% CI") - 1
    assert all(row[ci_end] == "]" for row in rows)  # right-aligned, so the columns line up
    assert rows[0].split()[:3] == ["1", "1", "perfect"]

    md = format_leaderboard(lb, "md").splitlines()
    assert md[2].startswith("| rank | group | run | model | mean | 95% CI | n |")
    assert set(md[3]) <= set("|-:") and [line.split(" | ")[2] for line in md[4:8]] == list(FLIPS)

    page = format_leaderboard(lb, "html")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert page.count("<tr") == 5 and "<table>" in page and "</table>" in page and "<style>" in page
    assert all(f">{name}</td>" in page for name in FLIPS)
    # self-contained: nothing fetched, and the page's Content-Security-Policy forbids any load
    assert not re.search(r"https?://|<link|src=", page)
    assert "default-src 'none'" in page and page.count("<script>") == 1  # the reports' own, hash-pinned
    hostile = lb.model_copy(
        update={"entries": [lb.entries[0].model_copy(update={"label": "<script>x</script>"})]}
    )
    assert "&lt;script&gt;x&lt;/script&gt;" in format_leaderboard(hostile, "html")
    # Markdown: a label or model spec is shown as text, never opened as HTML by a renderer
    bait = "<img src=x onerror=alert(1)>"
    entry = lb.entries[0].model_copy(update={"label": bait, "model": f"hf:{bait}"})
    hostile_md = format_leaderboard(lb.model_copy(update={"entries": [entry], "notes": [bait]}), "md")
    assert "<img" not in hostile_md and hostile_md.count("&lt;img src=x onerror=alert(1)&gt;") == 3

    assert Leaderboard.model_validate_json(format_leaderboard(lb, "json")) == lb
    with pytest.raises(FaithbenchError, match="unknown leaderboard format 'csv'"):
        format_leaderboard(lb, "csv")


def test_cli_commands(board: Board, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="faithbench")
    add_leaderboard_commands(parser.add_subparsers())
    url = fresh_db(tmp_path)

    def run(*argv: str) -> int:
        args = parser.parse_args(argv)
        return int(args.func(args))

    assert run("register", *(str(board.runs[n]) for n in FLIPS), "--db", url) == 0
    out = capsys.readouterr().out
    assert out.count("registered ") == 4 and f"in {url}" in out
    assert run("leaderboard", "--db", url, "--format", "json") == 0
    lb = Leaderboard.model_validate_json(capsys.readouterr().out)
    assert [e.group for e in lb.entries] == [1, 1, 2, 2] and lb.task == "gsm8k"
    page = tmp_path / "out" / "board.html"
    assert run("leaderboard", "--db", url, "--task", "all", "--format", "html", "--out", str(page)) == 0
    assert "<table>" in page.read_text() and f"wrote {page}" in capsys.readouterr().out
    with pytest.raises(FaithbenchError, match="--label names one run"):
        run("register", str(board.runs["perfect"]), str(board.runs["flip2"]), "--label", "x", "--db", url)


# ------------------------------------------------------------------------------------- PostgreSQL


def postgres_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<major>/bin with initdb and pg_ctl, else PATH's."""

    def major(path: str) -> int:
        found = re.search(r"postgresql/(\d+)", path)
        return int(found.group(1)) if found else 0

    for initdb in sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=major, reverse=True):
        folder = Path(initdb).parent
        if (folder / "pg_ctl").is_file():
            return folder
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on a unix socket (no TCP), stopped and deleted afterwards.

    Its folder is a fresh one in the system temp dir, not tmp_path: pytest makes its temp root
    0700, which the server's user (postgres, when we are root) cannot enter, and a unix socket's
    path must stay under 108 bytes."""
    pytest.importorskip("psycopg", reason="psycopg (the postgres extra) is not installed")
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or PATH"
        )
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        if shutil.which("runuser") is None:
            pytest.skip("running as root and runuser(1) is missing")
        as_user = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="fb-pg-"))
    data, sock, log = base / "data", base / "sock", base / "server.log"
    for folder in (data, sock):
        folder.mkdir()
    if owner is not None:
        for path in (base, data, sock):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = free_port()
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
    started = time.perf_counter()
    try:
        subprocess.run(
            [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "--no-sync", "-E", "UTF8", "--locale=C"],
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        options = f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off"
        subprocess.run(
            [*pg_ctl, "-o", options, "-l", str(log), "-w", "-t", "60", "start"],
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.cmd}\n{exc.stdout}\n{exc.stderr}")
    print(f"\nPostgreSQL {bindir.parent.name}: initdb + start in {time.perf_counter() - started:.2f}s")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"
    finally:
        stopping = time.perf_counter()
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, timeout=120)
        print(f"PostgreSQL stop in {time.perf_counter() - stopping:.2f}s")
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_postgresql_registry_and_leaderboard(board: Board, postgres_url: str, tmp_path: Path) -> None:
    check_registration_is_idempotent(board, postgres_url)
    lb = check_board(board, postgres_url)
    assert Leaderboard.model_validate_json(format_leaderboard(lb, "json")) == lb
    unfinished = tmp_path / "unfinished"
    shutil.copytree(board.runs["flip2"], unfinished)
    info = json.loads((unfinished / "run.json").read_text())
    (unfinished / "run.json").write_text(json.dumps({**info, "status": "running"}))
    with pytest.raises(FaithbenchError, match="not 'finished'"):
        register_run(unfinished, db=postgres_url)
    assert len(list_runs(postgres_url)) == 4
