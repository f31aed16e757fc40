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


class ChatJudge:
    """A real local HTTP server speaking the OpenAI chat API as a rubric judge would: validity 4 for
    every solution, 2 for questions in `low`, an unreadable reply for questions in `unreadable`."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.low: set[str] = set()
        self.unreadable: set[str] = set()
        self.requests = 0
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                judge.requests += 1
                content = judge.reply(body["messages"][1]["content"])
                message = {"role": "assistant", "content": content}
                raw = json.dumps({"choices": [{"index": 0, "message": message}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.spec = f"openai:judge@http://127.0.0.1:{self.server.server_address[1]}/v1"

    def reply(self, user: str) -> str:
        """The verdict for the judge prompt `user` (its data block holds the question JSON-escaped)."""
        if any(json.dumps(q)[1:-1][:60] in user for q in self.unreadable):
            return "I cannot grade this."
        validity = 2 if any(json.dumps(q)[1:-1][:60] in user for q in self.low) else 4
        return (
            f'{{"validity": {validity}, "coherence": 4, "alignment": 4, "first_error_step": null, '
            '"explanation": "ok"}'
        )


@pytest.fixture
def chat_judge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatJudge]:
    import threading

    monkeypatch.setenv("FAITHBENCH_RESPONSES_DB", str(tmp_path / "judge-responses.sqlite"))
    judge = ChatJudge()
    threading.Thread(target=judge.server.serve_forever, daemon=True).start()
    try:
        yield judge
    finally:
        judge.server.shutdown()
        judge.server.server_close()


def as_written_before_the_verdict(src: Path, dst: Path) -> Path:
    """A copy of a run in format 1 as main wrote it before samples had a process verdict (fd93e12):
    three parallel dicts, steps counted from 0, no `first_error_step`, no `format_version`."""
    dst.mkdir()
    (dst / "summary.json").write_bytes((src / "summary.json").read_bytes())
    info = json.loads((src / "run.json").read_text())
    del info["format_version"]
    (dst / "run.json").write_text(json.dumps(info))
    rows = [json.loads(line) for line in (src / "samples.jsonl").read_text().splitlines()]
    for row in rows:
        del row["first_error_step"], row["first_error_by"]
        scores = row.pop("scores")
        row["scores"] = {name: score["value"] for name, score in scores.items()}
        row["reasons"] = {name: score["reason"] for name, score in scores.items() if score["reason"]}
        row["details"] = {name: _from_zero(score["details"]) for name, score in scores.items()}
    (dst / "samples.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return dst


def _from_zero(details: dict) -> dict:
    out = dict(details)
    for key in ("first_wrong_step", "answer_step"):
        if isinstance(out.get(key), int):
            out[key] -= 1
    for key in ("wrong", "ungrounded", "corrected"):
        if key in out:
            out[key] = [{**entry, "step": entry["step"] - 1} for entry in out[key]]
    return out
