"""The OpenAI-compatible backend against a real local HTTP server that speaks the chat API.

`FakeChatAPI` is a stdlib `ThreadingHTTPServer` answering `POST /v1/chat/completions` with GSM8K
reference solutions (the real test split), checking the bearer key, counting requests in flight,
and injecting faults on demand: 500, 429 with Retry-After, a reply slower than the client timeout,
malformed bodies, a connection dropped mid-body, and a 500 that echoes the key it was sent.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from faithbench.cli import main
from faithbench.errors import FaithbenchError
from faithbench.harness.backends import BackendSpecError, GenerationConfig, Request, load_backend
from faithbench.harness.backends.openai_compat import (
    OpenAICompatBackend,
    RemoteBackendError,
    RetryPolicy,
    retry_after_seconds,
)
from faithbench.harness.store import RunDir
from faithbench.leaderboard.db import list_runs
from faithbench.tasks.base import Prompt

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
REASONING = "First I re-read the question, then I add the numbers."
VERDICT = '{"validity": 5, "coherence": 4, "alignment": 5, "first_error_step": null, "explanation": "Sound."}'


@dataclass
class ServerState:
    key: str | None
    solutions: dict[str, str]  # GSM8K question -> reference rationale ending in '#### N'
    faults: deque[str] = field(default_factory=deque)  # one fault per coming request, in order
    failing: set[str] = field(default_factory=set)  # questions that always get the key-echoing 500
    latency: float = 0.0  # seconds a normal answer takes
    slow_seconds: float = 1.0  # how long the 'slow' fault keeps the client waiting
    retry_after: str = "0"
    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    arrivals: list[float] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        state = self.server.state
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with state.lock:
            state.calls += 1
            state.arrivals.append(time.monotonic())
            state.bodies.append(body)
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            fault = state.faults.popleft() if state.faults else None
        try:
            self._answer(state, body, fault)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) before the reply
        finally:
            with state.lock:
                state.in_flight -= 1

    def _answer(self, state: ServerState, body: dict[str, Any], fault: str | None) -> None:
        auth = self.headers.get("Authorization", "")
        if self.path not in ("/v1/chat/completions", "/v1/completions"):
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        if state.key is not None and auth != f"Bearer {state.key}":
            return self._send(401, {"error": {"message": "Incorrect API key provided"}})
        if self.path == "/v1/completions":  # raw text: lm-eval's `Question: ...\nAnswer:` format
            question = body["prompt"].rpartition("Question: ")[2].removesuffix("\nAnswer:")
        elif body["messages"][0]["role"] == "system" and "grade" in body["messages"][0]["content"]:
            question = body["messages"][1]["content"]  # a judge prompt: the question is inside its data
        else:
            question = body["messages"][-1]["content"].rpartition("Question: ")[2]
        if question in state.failing or any(f[:40] in question for f in state.failing):
            return self._send(500, {"error": {"message": f"backend crashed serving {auth}"}})
        if fault == "500":
            return self._send(500, {"error": {"message": "internal error"}})
        if fault == "400":
            return self._send(400, {"error": {"message": "prompt too long"}})
        if fault == "429":
            return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": state.retry_after})
        if fault == "slow":
            time.sleep(state.slow_seconds)
        if fault == "malformed":
            return self._send_raw(200, b"<html>502 Bad Gateway</html>", "text/html")
        if fault == "no-choices":
            return self._send(200, {"id": "x", "object": "chat.completion", "choices": []})
        if fault == "drop":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"id": "chatcmpl-1", "choi')
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        time.sleep(state.latency)
        solution = state.solutions.get(question, "I do not know this one. #### 0")
        usage = {"prompt_tokens": 50, "completion_tokens": len(solution.split()), "total_tokens": 0}
        if self.path == "/v1/completions":
            choice = {"index": 0, "text": f" {solution}", "finish_reason": "length"}
            return self._send(
                200, {"id": "cmpl-1", "object": "text_completion", "choices": [choice], "usage": usage}
            )
        if body["messages"][0]["role"] == "system":
            solution = VERDICT
        message = {"role": "assistant", "content": solution}
        if body["model"] == "deepseek-reasoner":
            message["reasoning_content"] = REASONING
        reply = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": usage,
        }
        return self._send(200, reply)

    def _send(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ServerState) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@pytest.fixture(scope="module")
def solutions(test_rows: list[dict[str, str]]) -> dict[str, str]:
    """The gold rationales without GSM8K's `<<48/2=24>>` calculator annotations."""
    return {row["question"]: re.sub(r"<<[^>]*>>", "", row["answer"]) for row in test_rows}


@pytest.fixture
def api_key() -> str:
    return f"sk-test-{secrets.token_hex(12)}"


@pytest.fixture
def server(api_key: str, solutions: dict[str, str]) -> Iterator[Server]:
    httpd = Server(ServerState(key=api_key, solutions=solutions))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def backend(server: Server, key: str, **kwargs: Any) -> OpenAICompatBackend:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("timeout", 5.0)
    return OpenAICompatBackend("gsm8k-oracle", server.base_url, key, **kwargs)


def ask(question: str, rid: str = "q") -> Request:
    return Request(id=rid, prompt=Prompt(messages=(("user", f"Solve it.\n\nQuestion: {question}"),)))


def first_questions(test_rows: list[dict[str, str]], n: int) -> list[str]:
    return [row["question"] for row in test_rows[:n]]


# -- spec grammar ----------------------------------------------------------------------------------


def test_specs_build_backends_with_identity_and_no_key(
    server: Server, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", api_key)
    local = load_backend(f"openai:qwen2.5-7b@{server.base_url}/")
    assert local.identity == f"openai:qwen2.5-7b@{server.base_url}" and local.cacheable
    assert api_key not in local.identity and api_key not in repr(local)
    assert load_backend("openai:gpt-4o-mini").identity == "openai:gpt-4o-mini@https://api.openai.com/v1"

    monkeypatch.setenv("DEEPSEEK_API_KEY", api_key)
    monkeypatch.delenv("DEEPSEEK_BASE_URL", raising=False)
    assert load_backend("deepseek:deepseek-chat").identity == "openai:deepseek-chat@https://api.deepseek.com"


@pytest.mark.parametrize(
    ("spec", "env", "needle"),
    [
        ("deepseek:deepseek-chat", {}, "set $DEEPSEEK_API_KEY"),
        ("deepseek:", {"DEEPSEEK_API_KEY": "k"}, "needs a model name"),
        ("openai:gpt-4o", {}, "set $OPENAI_API_KEY"),
        ("openai:", {}, "needs a model name"),
        ("openai:m@127.0.0.1:8000/v1", {}, "must start with http"),
        ("openai:m@http://127.0.0.1/v1+lora:/a", {}, "LoRA adapter cannot apply"),
        ("deepseek:deepseek-chat", {"DEEPSEEK_API_KEY": "k", "DEEPSEEK_BASE_URL": "ftp://x"}, "http"),
    ],
)
def test_bad_specs_fail_with_one_clear_line(
    spec: str, env: dict[str, str], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "DEEPSEEK_API_KEY", "DEEPSEEK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(FaithbenchError, match=re.escape(needle)) as info:
        load_backend(spec)
    assert "\n" not in str(info.value)
    if "lora" in spec:
        assert isinstance(info.value, BackendSpecError)


def test_credentials_in_the_url_are_refused_without_echoing_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(RemoteBackendError, match="credentials in the base URL") as info:
        load_backend("openai:m@http://user:hunter2secret@127.0.0.1:8000/v1")
    assert "hunter2secret" not in str(info.value)


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_bad_concurrency_setting_names_the_variable(
    value: str, server: Server, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAITHBENCH_CONCURRENCY", value)
    with pytest.raises(FaithbenchError, match=r"\$FAITHBENCH_CONCURRENCY=.*expected a positive int"):
        OpenAICompatBackend("m", server.base_url, api_key)


# -- one call, end to end ----------------------------------------------------------------------------


def test_request_carries_the_generation_config_and_the_reply_maps_back(
    server: Server, api_key: str, test_rows: list[dict[str, str]], solutions: dict[str, str]
) -> None:
    question = test_rows[0]["question"]
    config = GenerationConfig(max_new_tokens=77, temperature=0.0, top_p=0.9, seed=5, stop=("Question:",))
    [completion] = backend(server, api_key).generate([ask(question)], config)
    assert completion.error is None and completion.reasoning is None
    assert completion.text == solutions[question] and completion.text.endswith("#### 18")
    assert completion.finish_reason == "stop"
    assert completion.n_tokens == len(solutions[question].split())
    [body] = server.state.bodies
    assert body["model"] == "gsm8k-oracle" and body["max_tokens"] == 77 and body["temperature"] == 0
    assert body["top_p"] == 0.9 and body["seed"] == 5 and body["stop"] == ["Question:"]
    assert body["messages"] == [{"role": "user", "content": f"Solve it.\n\nQuestion: {question}"}]


def test_a_prefilled_chat_prompt_is_refused(server: Server, api_key: str) -> None:
    chat = Prompt(messages=(("user", "Q"),), prefill='{"verdict": "')
    with pytest.raises(RemoteBackendError, match="cannot continue a prefilled reply"):
        backend(server, api_key).generate([Request(id="j", prompt=chat)], GenerationConfig())
    assert server.state.calls == 0


def test_raw_text_prompts_go_to_the_completions_endpoint(
    server: Server, api_key: str, test_rows: list[dict[str, str]], solutions: dict[str, str]
) -> None:
    question = test_rows[2]["question"]
    text = f"Question: What is 1+1?\nAnswer: 2\n\nQuestion: {question}\nAnswer:"
    config = GenerationConfig(max_new_tokens=9, seed=2, stop=("Question:",))
    [completion] = backend(server, api_key).generate([Request(id="t", prompt=Prompt(text=text))], config)
    assert completion.error is None and completion.text == f" {solutions[question]}"
    assert completion.finish_reason == "length" and completion.n_tokens == len(solutions[question].split())
    [body] = server.state.bodies
    assert body["prompt"] == text and "messages" not in body
    assert body["max_tokens"] == 9 and body["seed"] == 2 and body["stop"] == ["Question:"]
    prefilled = Prompt(text="Question: 1+1\nAnswer:", prefill=" The sum")
    backend(server, api_key).generate([Request(id="p", prompt=prefilled)], config)
    assert server.state.bodies[-1]["prompt"] == "Question: 1+1\nAnswer: The sum"


def test_fewshot_eval_through_the_completions_endpoint(
    server: Server, api_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    """`gsm8k-fewshot` end to end: the server answers each question with its reference solution, so
    every sample is correct and the run finishes."""
    monkeypatch.setenv("OPENAI_API_KEY", api_key)
    monkeypatch.setenv("FAITHBENCH_RESPONSES_DB", str(tmp_path / "responses.sqlite"))
    out = tmp_path / "run"
    spec = f"openai:gsm8k-oracle@{server.base_url}"
    args = ["eval", "--model", spec, "--task", "gsm8k-fewshot", "--limit", "4", "--out", str(out)]
    assert main([*args, "--data-dir", str(data_dir), "--no-register", "--quiet"]) == 0
    records = RunDir(out).read_samples()
    assert [r.correct for r in records] == [True] * 4
    assert all(
        b["prompt"].endswith("\nAnswer:") and b["prompt"].count("Question: ") == 6
        for b in server.state.bodies
    )


def test_deepseek_reasoner_keeps_reasoning_content_apart(
    server: Server, api_key: str, test_rows: list[dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", api_key)
    monkeypatch.setenv("DEEPSEEK_BASE_URL", server.base_url)
    reasoner = load_backend("deepseek:deepseek-reasoner")
    assert reasoner.identity == f"openai:deepseek-reasoner@{server.base_url}"
    [completion] = reasoner.generate([ask(test_rows[1]["question"])], GenerationConfig())
    assert completion.reasoning == REASONING
    assert REASONING not in completion.text and completion.text.endswith("#### 3")


# -- faults: retried, waited for, bounded, degraded ------------------------------------------------


@pytest.mark.parametrize("fault", ["500", "429", "slow", "malformed", "no-choices", "drop"])
def test_transient_faults_are_retried_until_an_answer_comes(
    fault: str, server: Server, api_key: str, test_rows: list[dict[str, str]]
) -> None:
    server.state.faults.extend([fault, fault])
    model = backend(server, api_key, timeout=0.3 if fault == "slow" else 5.0)
    [completion] = model.generate([ask(test_rows[0]["question"])], GenerationConfig())
    assert completion.error is None and completion.text.endswith("#### 18")
    assert server.state.calls == 3


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("500", "HTTP 500: "),
        ("429", "HTTP 429: "),
        ("slow", "no response within 0.3s"),
        ("malformed", "malformed response"),
        ("no-choices", "malformed response (choices: "),
        ("drop", "connection error (RemoteProtocolError)"),
    ],
)
def test_exhausted_retries_give_an_errored_completion_not_an_exception(
    fault: str, reason: str, server: Server, api_key: str, test_rows: list[dict[str, str]]
) -> None:
    server.state.faults.extend([fault] * 3)
    model = backend(server, api_key, timeout=0.3 if fault == "slow" else 5.0)
    [completion] = model.generate([ask(test_rows[0]["question"])], GenerationConfig())
    assert completion.error is not None and completion.text == ""
    assert reason in completion.error and completion.error.endswith("(gave up after 3 tries)")
    assert server.state.calls == 3


def test_a_refused_request_is_not_retried_and_a_wrong_key_stops_the_run(server: Server, api_key: str) -> None:
    server.state.faults.append("400")
    [completion] = backend(server, api_key).generate([ask("x")], GenerationConfig())
    assert completion.error is not None and completion.error.startswith("HTTP 400: ")
    assert server.state.calls == 1
    wrong_key = backend(server, "sk-wrong-key", concurrency=1)
    with pytest.raises(RemoteBackendError, match=r"HTTP 401: .*Incorrect API key") as info:
        wrong_key.generate([ask("x", f"r{i}") for i in range(6)], GenerationConfig())
    assert "sk-wrong-key" not in str(info.value)
    # the requests still queued were dropped (one may have started while the error surfaced)
    assert 2 <= server.state.calls <= 3


def test_retry_after_seconds_is_honoured(server: Server, api_key: str) -> None:
    server.state.retry_after = "1"
    server.state.faults.append("429")
    retry = RetryPolicy(attempts=2, base_delay=0.0, max_delay=5.0)  # no backoff: only Retry-After waits
    [completion] = backend(server, api_key, retry=retry).generate([ask("x")], GenerationConfig())
    assert completion.error is None
    first, second = server.state.arrivals
    assert 1.0 <= second - first < 3.0


def test_retry_after_as_http_date_is_honoured_and_capped(server: Server, api_key: str) -> None:
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2.5)
    server.state.retry_after = email.utils.format_datetime(later, usegmt=True)
    server.state.faults.append("429")
    retry = RetryPolicy(attempts=2, base_delay=0.0, max_delay=5.0)
    backend(server, api_key, retry=retry).generate([ask("x")], GenerationConfig())
    first, second = server.state.arrivals
    assert 1.0 <= second - first < 4.0  # the date has whole seconds: 1.5 to 2.5 s of waiting

    server.state.retry_after = "3600"  # an hour: capped by the policy's max_delay
    server.state.faults.append("429")
    capped = RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.2)
    started = time.monotonic()
    [completion] = backend(server, api_key, retry=capped).generate([ask("x")], GenerationConfig())
    assert completion.error is None and time.monotonic() - started < 2.0


def test_backoff_is_exponential_with_full_jitter() -> None:
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_delay=10.0)
    rng = random.Random(0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        waits = [policy.delay(attempt, None, rng) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > 0.8 * ceiling and min(waits) < 0.2 * ceiling  # spread over the range
    assert policy.delay(1, 30.0, rng) == 10.0 and policy.delay(3, 0.5, rng) == 0.5


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds("7") == 7.0 and retry_after_seconds(" 0.5 ") == 0.5
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    past = email.utils.format_datetime(dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc), usegmt=True)
    assert retry_after_seconds(past) == 0.0
    ahead = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30)
    value = retry_after_seconds(email.utils.format_datetime(ahead, usegmt=True))
    assert value is not None and 28.0 <= value <= 30.0


@pytest.mark.parametrize(("limit", "env"), [(3, None), (None, "2")])
def test_concurrency_is_bounded(
    limit: int | None,
    env: str | None,
    server: Server,
    api_key: str,
    test_rows: list[dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if env is not None:
        monkeypatch.setenv("FAITHBENCH_CONCURRENCY", env)
    server.state.latency = 0.3
    requests = [ask(q, f"test-{i}") for i, q in enumerate(first_questions(test_rows, 10))]
    completions = backend(server, api_key, concurrency=limit).generate(requests, GenerationConfig())
    assert [c.text for c in completions] == [server.state.solutions[r["question"]] for r in test_rows[:10]]
    assert server.state.calls == 10
    assert server.state.max_in_flight == (limit or int(env or 0))


# -- through the CLI: eval, cache, resume, and the key policy ----------------------------------------


def test_cli_eval_resumes_after_failures_caches_and_never_leaks_the_key(
    server: Server,
    api_key: str,
    test_rows: list[dict[str, str]],
    tmp_path: Path,
    results_db: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the SDK's and httpx's included
    monkeypatch.setenv("OPENAI_API_KEY", api_key)
    monkeypatch.setenv("FAITHBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FAITHBENCH_RESPONSES_DB", raising=False)
    monkeypatch.setenv("FAITHBENCH_MAX_ATTEMPTS", "2")
    spec = f"openai:gsm8k-oracle@{server.base_url}"
    run = RunDir(tmp_path / "run")

    def evaluate(out: Path) -> tuple[int, str]:
        server.state.calls = 0
        code = main(["eval", "--model", spec, "--limit", "4", "--out", str(out), "--quiet"])
        return code, capsys.readouterr().err

    # Items 1 and 2 fail every try with a 500 whose body echoes the Authorization header.
    server.state.failing = {test_rows[1]["question"], test_rows[2]["question"]}
    code, err = evaluate(run.path)
    assert code == 1 and server.state.calls == 2 + 2 * 2
    [warning] = [line for line in err.splitlines() if line.startswith("faithbench: warning:")]
    assert "2 of 4 samples got no completion (first: HTTP 500: " in warning
    assert "Bearer <redacted>" in warning and "gave up after 2 tries" in warning
    assert sorted(r.id for r in run.read_samples()) == ["test-0", "test-3"]
    assert run.read_info().status == "running" and run.read_summary().n_samples == 2
    assert list_runs(results_db) == []  # an incomplete run is not registered

    # The same command again: only the two missing items are asked for (failures were not cached).
    server.state.failing = set()
    code, err = evaluate(run.path)
    assert code == 0 and server.state.calls == 2
    records = run.read_samples()
    assert sorted(r.id for r in records) == ["test-0", "test-1", "test-2", "test-3"]
    assert all(r.correct for r in records), "the server answers with the reference solutions"
    assert run.read_info().status == "finished" and run.read_summary().metrics["accuracy"].mean == 1.0
    assert [r.path for r in list_runs(results_db)] == [str(run.path.resolve())]

    # A fresh run directory with the same settings is served from the cache: no calls at all.
    code, _ = evaluate(tmp_path / "again")
    assert code == 0 and server.state.calls == 0
    by_id = {r.id: r for r in records}
    assert {r.id: r for r in RunDir(tmp_path / "again").read_samples()} == by_id

    assert server.state.bodies and all(b["model"] == "gsm8k-oracle" for b in server.state.bodies)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {"responses.sqlite", "samples.jsonl", "run.json", "faithbench.db"} <= {p.name for p in files}
    for path in files:
        assert api_key.encode() not in path.read_bytes(), path
    assert any("Bearer <redacted>" in r.getMessage() for r in caplog.records), "retries were logged"
    assert all(api_key not in r.getMessage() for r in caplog.records)
    assert api_key not in caplog.text and api_key not in err


def test_judge_through_faults_finishes_with_every_sample_scored_or_unscored_with_a_reason(
    server: Server,
    api_key: str,
    test_rows: list[dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`score --judge` against a chat API that fails in every way: the run finishes, transient faults
    are retried into verdicts, a judge that keeps failing leaves its sample unscored with the reason,
    and the key reaches no file."""
    monkeypatch.setenv("OPENAI_API_KEY", api_key)
    monkeypatch.setenv("FAITHBENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FAITHBENCH_RESPONSES_DB", raising=False)
    monkeypatch.setenv("FAITHBENCH_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("FAITHBENCH_REQUEST_TIMEOUT", "0.5")
    run = tmp_path / "run"
    spec = f"openai:gsm8k-oracle@{server.base_url}"
    assert main(["eval", "--model", spec, "--limit", "8", "--out", str(run), "--quiet"]) == 0

    server.state.calls = 0
    server.state.slow_seconds = 1.0  # past the 0.5 s timeout
    server.state.faults.extend(["500", "429", "slow", "malformed", "drop", "no-choices"])
    broken = {test_rows[5]["question"]}  # this sample's judge answers 500 on every try
    server.state.failing = broken
    code = main(["score", str(run), "--judge", f"openai:judge@{server.base_url}", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0, err
    records = {r.id: r for r in RunDir(run).read_samples()}
    assert len(records) == 8
    # 8 first tries, 2 more for the broken one, and a retry per fault (one fault may land on the
    # broken one's tries, which it would have failed anyway).
    assert server.state.calls >= 8 + 2 + 5
    for rid, record in records.items():
        if rid == "test-5":
            assert record.value("judge_validity") is None
            assert record.scores["judge_validity"].reason.startswith("judge call failed: HTTP 500")
            assert "<redacted>" in record.scores["judge_validity"].reason  # the server echoed the key
        else:
            assert record.value("judge_validity") == 1.0 and record.value("judge_coherence") == 0.75
    summary = RunDir(run).read_summary().metrics["judge_validity"]
    assert summary.n == 7 and summary.n_unscored == 1
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        assert api_key.encode() not in path.read_bytes(), path
    assert api_key not in err
