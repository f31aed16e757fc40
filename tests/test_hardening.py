"""Issue 16: what an adversarial user tried, each as a test of the real behaviour: concurrent
processes on one database or run directory, hostile text through the parser's whole input path,
damaged files, and secrets in every spelling they take."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from faithbench.cli import main
from faithbench.leaderboard.db import list_runs

REPO = Path(__file__).resolve().parents[1]


def _predictions(path: Path, test_rows: list[dict[str, str]], n: int) -> Path:
    rows = [
        {"id": f"test-{i}", "completion": re.sub(r"<<[^>]*>>", "", r["answer"])}
        for i, r in enumerate(test_rows[:n])
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _finished_run(tmp_path: Path, test_rows: list[dict[str, str]], name: str = "run", n: int = 2) -> Path:
    preds = _predictions(tmp_path / f"{name}.jsonl", test_rows, n)
    out = tmp_path / name
    code = main(["eval", "--model", f"predictions:{preds}", "--out", str(out), "--quiet", "--no-register"])
    assert code == 0
    return out


# --- 3: a fresh SQLite database created by several processes at once ------------------------------

_REGISTER_AT_ONCE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from faithbench.leaderboard.db import register_run
    go, db, *runs = sys.argv[1:]
    Path(f"{go}-{runs[0].rsplit('/', 1)[-1]}").touch()  # ready
    while not Path(go).exists():  # every process reaches the first open of the database together
        time.sleep(0.0005)
    for run in runs:
        register_run(run, db)
    """
)


def test_processes_registering_into_a_fresh_database_at_once_lose_no_run(
    tmp_path: Path, test_rows: list[dict[str, str]]
) -> None:
    template = _finished_run(tmp_path, test_rows)
    runs = []
    for i in range(8):
        runs.append(tmp_path / "runs" / f"r{i}")
        shutil.copytree(template, runs[-1])
    for trial in range(4):
        db = tmp_path / f"fresh-{trial}.db"
        go = tmp_path / f"go-{trial}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _REGISTER_AT_ONCE, str(go), str(db), *map(str, runs[i::4])],
                stderr=subprocess.PIPE,
                text=True,
                cwd=REPO,
            )
            for i in range(4)
        ]
        ready = [Path(f"{go}-r{i}") for i in range(4)]
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        go.touch()
        errors = [p.communicate(timeout=120)[1] for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, errors
        assert sorted(r.path for r in list_runs(db)) == sorted(str(r.resolve()) for r in runs)
