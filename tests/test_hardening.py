"""Issue 16: what an adversarial user tried, each as a test of the real behaviour: concurrent
processes on one database or run directory, hostile text through the parser's whole input path,
damaged files, and secrets in every spelling they take."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faithbench.cli import main
from faithbench.core import Completion
from faithbench.harness.scoring import resolve_metrics, score_sample
from faithbench.leaderboard.db import list_runs
from faithbench.parsing import numbers_equal, parse_completion
from faithbench.parsing.answers import EXTRACTORS
from faithbench.parsing.completion import MAX_STEPS
from faithbench.tasks.base import Item

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


# --- 4: hostile predictions lines; 2: the parsing budget; 5: answers that are not what they seem ----


def _eval_cli(preds: Path, out: Path, *options: str) -> int:
    return main(
        ["eval", "--model", f"predictions:{preds}", "--out", str(out), "--quiet", "--no-register", *options]
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            b'{"id": "test-0", "completion": null}',
            "p.jsonl:1: field 'completion': must be a string, not null",
        ),
        (
            b'{"id": "test-0", "completion": "x", "n": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "p.jsonl:1: nested",
        ),
        (
            b'{"id": "test-0", "completion": "x", "n": ' + b"7" * 1_000_000 + b"}",
            "p.jsonl:1: a number with 1,000,000 digits",
        ),
        (b'{"id": "test-0", "completion": "x \\ud800 y"}', "p.jsonl:1: field 'completion': a lone surrogate"),
        (
            b'{"id": "test-0", "completion": "' + b"x" * (17 * 2**20) + b'"}',
            "p.jsonl:1: line longer than 16 MiB",
        ),
    ],
    ids=["null", "deep", "digits", "surrogate", "huge-line"],
)
def test_hostile_predictions_lines_are_one_line_errors_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: bytes, message: str
) -> None:
    preds = tmp_path / "p.jsonl"
    preds.write_bytes(line + b"\n")
    assert _eval_cli(preds, tmp_path / "run") == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err[:300]
    assert not (tmp_path / "run").exists()


def test_score_reads_samples_with_the_same_reader(
    tmp_path: Path, test_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    run = _finished_run(tmp_path, test_rows)
    samples = run / "samples.jsonl"
    good = samples.read_bytes()
    for bad, message in [
        (b'{"id": "x", "n": ' + b"7" * 100_000 + b"}\n", "a number with 100,000 digits"),
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested deeper than"),
        (b'{"id": "\\udfff"}\n', "a lone surrogate"),
    ]:
        samples.write_bytes(good + bad)
        capsys.readouterr()
        assert main(["score", str(run), "--quiet", "--no-register"]) == 2
        err = capsys.readouterr().err
        assert "samples.jsonl:3" in err and message in err and err.count("\n") == 1, err[:300]
        assert samples.read_bytes() == good + bad  # refused, not rewritten


@pytest.mark.parametrize(
    "text",
    [
        "9*2=18\n#### 18" + "." * 100_000,
        "".join(f"{i} + 1 = {i + 1}\n" for i in range(60_000)),
        "1+1=2\n" * 5_000,
        "(" * 400_000 + "1" + ")" * 400_000,
        "10n + 10 = 130\n" * 1_500,
    ],
    ids=["dots", "i+1=j", "1+1=2 x 5000", "brackets", "1500 lines"],
)
def test_over_the_budget_the_rationale_is_not_parsed_but_the_answer_is_read(text: str) -> None:
    parsed = parse_completion(Completion(text=text))
    assert parsed.unparsed and parsed.steps == () and parsed.equations == ()
    record = score_sample(
        Item(id="t", question="q", target="18"), "p", Completion(text=text), resolve_metrics(None)
    )
    assert record.value("step_arithmetic") is None
    assert record.scores["step_arithmetic"].reason == parsed.unparsed
    if text.startswith("9*2"):
        assert parsed.answer == "18" and record.correct  # the answer is read from the visible end


def test_minus_signs_and_exponents_are_not_read_as_other_numbers() -> None:
    assert parse_completion(Completion(text="The answer is \u221218")).answer == "-18"
    assert not score_sample(
        Item(id="t", question="q", target="18"), "p", Completion(text="The answer is \u221218"), []
    ).correct
    assert parse_completion(Completion(text="#### \u221270000")).answer == "-70000"
    big = parse_completion(Completion(text="The answer is 1e540"))
    assert big.answer != "540" and not numbers_equal(big.answer, "540")


# Completions as a model or a hostile predictions file might write them: any text, weighted toward
# the characters the parser reacts to. Every one is parsed within the budget, without an exception.
_PARSER_ALPHABET = st.sampled_from(
    [
        *"0123456789+-*/=().,$%#xn \n\t",
        "\u2212",
        "\u00d7",
        "\\frac{",
        "}",
        "<think>",
        "</think>",
        "####",
        "The answer is",
        "**",
        "1e999999",
        "9**9**9",
        "\u0000",
        "\u202e",
        ".",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PARSER_ALPHABET, max_size=400).map("".join), st.one_of(st.none(), st.text(max_size=200)))
def test_fuzz_the_whole_parsing_path(text: str, reasoning: str | None) -> None:
    completion = Completion(text=text, reasoning=reasoning)
    for extractor in EXTRACTORS:
        parsed = parse_completion(completion, extractor)
        assert len(parsed.steps) <= MAX_STEPS
        for answer in (parsed.answer, parsed.strict_answer):
            assert answer is None or isinstance(answer, str)
    record = score_sample(
        Item(id="t", question="Ann has 3 apples.", target="18"), "p", completion, resolve_metrics(None)
    )
    for score in record.scores.values():
        assert score.value is None or 0.0 <= score.value <= 1.0
        assert score.value is not None or score.reason
        assert not (score.reason or "").startswith("metric raised"), score.reason


# --- 1: one writer per run directory; no run holds a duplicate id -----------------------------------

_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from faithbench.harness.store import RunDir
    with RunDir(sys.argv[1]).writing():
        Path(sys.argv[2]).touch()
        time.sleep(120)
    """
)


def test_a_second_writer_is_refused_while_another_process_writes_the_run(
    tmp_path: Path, test_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    run = _finished_run(tmp_path, test_rows, n=3)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    held = tmp_path / "held"
    writer = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(run), str(held)], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not held.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        preds = _predictions(tmp_path / "more.jsonl", test_rows, 5)
        capsys.readouterr()
        for argv in (
            ["eval", "--model", f"predictions:{tmp_path / 'run.jsonl'}", "--out", str(run), "--quiet"],
            ["score", str(run), "--quiet", "--no-register"],
            ["intervene", str(run), "--quiet", "--no-register"],  # refused before any model loads
        ):
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert "another faithbench process is writing this run" in err and err.count("\n") == 1
        assert _eval_cli(preds, run) == 2  # (a different experiment is refused before the lock too)
        assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    finally:
        writer.kill()
        writer.wait()
    assert main(["score", str(run), "--quiet", "--no-register"]) == 0  # the lock died with its holder


_EVAL_PROCESS = "import sys; from faithbench.cli import main; sys.exit(main(sys.argv[1:]))"


def test_two_eval_processes_on_one_out_never_duplicate_a_sample(
    tmp_path: Path, test_rows: list[dict[str, str]]
) -> None:
    preds = _predictions(tmp_path / "p.jsonl", test_rows, 40)
    out = tmp_path / "run"
    argv = [
        "eval",
        "--model",
        f"predictions:{preds}",
        "--out",
        str(out),
        "--quiet",
        "--no-register",
        "--batch-size",
        "1",
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _EVAL_PROCESS, *argv], cwd=REPO, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # the loser is refused (or came after the winner finished)
    for code, err in results:
        if code == 2:
            assert "another faithbench process is writing this run" in err
    ids = [json.loads(line)["id"] for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 40


# --- 6, 7: --out that cannot be, or is not, a run ----------------------------------------------------


def test_bad_out_paths_are_one_line_errors_with_nothing_written(
    tmp_path: Path, test_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    preds = _predictions(tmp_path / "p.jsonl", test_rows, 2)
    (tmp_path / "a-file").write_text("mine\n")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    others = tmp_path / "others"
    others.mkdir()
    (others / "summary.json").write_text('{"mine": true}\n')
    cases = {
        str(tmp_path / "a-file"): "exists and is not a directory",
        str(tmp_path / "dangling"): "a dangling symbolic link",
        "/dev/null": "exists and is not a directory",
        str(tmp_path / "a-file" / "run"): "is a file, not a directory",
        str(tmp_path / ("x" * 300)): "is longer than 255 bytes",
        str(others): "holds files (summary.json) but no run.json",
    }
    before = sorted(p.name for p in tmp_path.iterdir())
    for out, message in cases.items():
        capsys.readouterr()
        assert _eval_cli(preds, Path(out)) == 2, out
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (out, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (others / "summary.json").read_text() == '{"mine": true}\n' and len(list(others.iterdir())) == 1
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "--model", f"predictions:{preds}", "--out", ""])
    assert exit_info.value.code == 2 and "an empty path" in capsys.readouterr().err
    # a report path: a directory, and a file as parent, refused the same way
    runs = [str(_finished_run(tmp_path, test_rows, name)) for name in ("r1", "r2")]
    for report, message in [
        (tmp_path, "exists and is not a regular file"),
        (tmp_path / "a-file" / "x.html", "is a file"),
    ]:
        assert main(["compare", *runs, "--report", str(report)]) == 2
        assert message in capsys.readouterr().err


def test_out_with_a_tilde_is_the_home_directory(
    tmp_path: Path, test_rows: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    preds = _predictions(tmp_path / "p.jsonl", test_rows, 1)
    assert (
        main(["eval", "--model", f"predictions:{preds}", "--out", "~/run", "--quiet", "--no-register"]) == 0
    )
    assert (tmp_path / "home" / "run" / "run.json").is_file() and not (tmp_path / "~").exists()


# --- 10: score refuses a broken run -------------------------------------------------------------------


def test_score_refuses_broken_runs(
    tmp_path: Path, test_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    run = _finished_run(tmp_path, test_rows, n=3)
    samples = run / "samples.jsonl"
    good = samples.read_bytes()
    lines = good.splitlines(keepends=True)
    unknown = json.loads(lines[0])
    unknown["id"] = "test-99999"
    cases = [
        (
            good + lines[1],
            f"samples.jsonl:4: field 'id': duplicate id {json.loads(lines[1])['id']!r} (first on line 2)",
        ),
        (
            good + json.dumps(unknown).encode() + b"\n",
            "samples.jsonl:4: field 'id': 'test-99999' is not an item",
        ),
        (good + lines[0][:50], "samples.jsonl:4: torn last line"),
        (b"", "samples.jsonl: empty"),
        (None, "samples.jsonl: missing"),
    ]
    for content, message in cases:
        if content is None:
            samples.unlink()
        else:
            samples.write_bytes(content)
        capsys.readouterr()
        assert main(["score", str(run), "--quiet", "--no-register"]) == 2, message
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
        assert not samples.exists() if content is None else samples.read_bytes() == content
        assert json.loads((run / "summary.json").read_text())["n_samples"] == 3


# --- 12: fewer predictions than --limit ------------------------------------------------------------------


def test_a_shortfall_against_limit_is_named(
    tmp_path: Path, test_rows: list[dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    preds = _predictions(tmp_path / "p.jsonl", test_rows, 3)
    assert _eval_cli(preds, tmp_path / "run", "--limit", "10") == 0
    err = capsys.readouterr().err
    assert "warning: --limit 10, but the predictions file has only 3 items of task 'gsm8k'" in err
    assert "the run holds 3, 7 fewer than asked" in err


# --- 8, 9: a canary key through every command, every file and every stream ------------------------------


class _EchoServer:
    """A chat API that answers GSM8K references and echoes the key it was sent in the spellings a
    careless server uses: `Bearer <key>` in a reply, JSON-escaped (`sk\\u002d...`) in a reply and in
    a 500 body with terminal escapes, which every first request of a question gets."""

    def __init__(self, key: str, solutions: dict[str, str]) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen: set[str] = set()
        escaped = key.replace("-", "\\\\u002d")

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                question = body["messages"][-1]["content"].rpartition("Question: ")[2]
                auth = self.headers.get("Authorization", "")
                if question not in seen:
                    seen.add(question)
                    raw = (
                        f'{{"error": {{"message": "\x1b]0;pwned\x07\x1b[2J crashed for {escaped} {auth}"}}}}'
                    )
                    return self._send(500, raw.encode())
                text = (
                    f"{solutions.get(question, '#### 0')}\nAuthorization: {auth} ({key.replace('-', '%2D')})"
                )
                reply = {"choices": [{"message": {"content": text}, "finish_reason": "stop"}]}
                self._send(200, json.dumps(reply).replace(key[:3], key[:2] + "\\u002d").encode())

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_a_canary_key_reaches_no_file_and_no_stream(
    tmp_path: Path,
    test_rows: list[dict[str, str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    results_db: str,
) -> None:
    key = "sk-canary-" + secrets.token_hex(12)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("FAITHBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FAITHBENCH_MAX_ATTEMPTS", "2")
    solutions = {r["question"]: re.sub(r"<<[^>]*>>", "", r["answer"]) for r in test_rows[:3]}
    server = _EchoServer(key, solutions)
    try:
        streams = []
        runs = [tmp_path / "a", tmp_path / "b"]
        for run in runs:
            argv = ["eval", "--model", f"openai:m@{server.url}", "--out", str(run), "--limit", "3", "--quiet"]
            main(argv)  # the first requests fail (500): the run is incomplete, the rerun completes it
            assert main(argv) == 0
        assert main(["score", str(runs[0]), "--quiet"]) == 0
        assert main(["compare", *map(str, runs), "--report", str(tmp_path / "report.html")]) == 0
        for fmt in ("md", "html", "json", "table"):
            assert main(["leaderboard", "--format", fmt, "--out", str(tmp_path / f"board.{fmt}")]) == 0
        assert main(["leaderboard", "--format", "md"]) == 0
        # a key in the URL's query is refused without being echoed
        assert (
            main(["eval", "--model", f"openai:m@{server.url}?api_key={key}", "--out", str(tmp_path / "c")])
            == 2
        )
        captured = capsys.readouterr()
        streams += [captured.out, captured.err]
    finally:
        server.httpd.shutdown()
    warnings = [r.getMessage() for r in caplog.records]  # the retry lines, printed on stderr
    streams += warnings
    assert any("crashed for <redacted> Bearer <redacted>" in w for w in warnings), warnings
    assert not any(c in text for text in streams for c in "\x1b\x07")
    secret = key.removeprefix("sk-canary-")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "responses.sqlite" for p in files) and (tmp_path / "report.html").is_file()
    assert (runs[0] / "samples.jsonl").read_text().count("<redacted>") >= 3
    leaks = [str(p) for p in files if secret.encode() in p.read_bytes()]
    leaks += [f"stream {i}" for i, text in enumerate(streams) if secret in text]
    assert leaks == []
    assert not (tmp_path / "c").exists()


def test_an_output_file_is_overwritten_by_a_rerun(tmp_path: Path) -> None:
    """`faithbench report RUN` (and `pipeline run`) run twice write the same page twice."""
    from faithbench.cli.options import write_output

    page = tmp_path / "report.html"
    write_output(page, "one")
    write_output(page, "two")
    assert page.read_text() == "two"
