"""OpenAI-compatible backend: `openai:<model>@<base_url>` and `deepseek:<model>`.

Chat prompts go to `POST <base_url>/chat/completions`, raw-text prompts (lm-eval's few-shot format,
`gsm8k-fewshot`) to `POST <base_url>/completions` with any prefill appended to the text. Any server
that speaks them answers: OpenAI, DeepSeek (chat), `vllm serve`, llama.cpp's server, Ollama.
The `openai` SDK does the HTTP and authentication with its own retries off; this module retries
(exponential backoff with full jitter, `Retry-After` honoured and capped) so that every attempt is
visible and bounded, and a request that still fails becomes a `Completion` with an `error` instead
of an exception that would stop a long run.

The API key lives only in the SDK client: identities, error reasons and log lines are built here
from the model, base URL, status codes and short body excerpts, and scrubbed of the key.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from faithbench.errors import FaithbenchError
from faithbench.harness.backends.base import BackendDefaults, Completion, GenerationConfig, Request
from faithbench.sanitize import add_secret, for_terminal, has_secret, known_secrets, redact

log = logging.getLogger(__name__)
N = TypeVar("N", int, float)
R = TypeVar("R", bound=BaseModel)

OPENAI_BASE_URL = "https://api.openai.com/v1"
DEEPSEEK_BASE_URL = "https://api.deepseek.com"
# The SDK refuses to start without a key; servers that check none (vLLM, llama.cpp, Ollama) get
# this placeholder, vLLM's own convention.
NO_KEY = "EMPTY"
RETRY_STATUSES = frozenset({408, 409, 429})  # and every 5xx
# A wrong key, a forbidden model or a model the server does not have fails every request alike:
# stop at once rather than send the whole data set into the same wall.
FATAL_STATUSES = frozenset({401, 403, 404})
EXCERPT_CHARS = 200


class RemoteBackendError(FaithbenchError):
    """A remote model that cannot answer at all as configured (spec, key, model name, prompt form)."""


class RetryPolicy(BaseModel):
    """How often and how patiently one request is retried."""

    model_config = ConfigDict(frozen=True)

    attempts: int = Field(6, ge=1, description="Tries per request, the first included.")
    base_delay: float = Field(1.0, ge=0, description="Backoff before the 2nd try; doubles per try.")
    max_delay: float = Field(60.0, ge=0, description="Cap on any one wait, Retry-After included.")

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed try `attempt` (1-based): what the server asked for, else
        full jitter (uniform in [0, base * 2^(attempt-1)]), so a crowd of clients spreads out."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        return rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class _Retry(Exception):
    """A failure worth another try (overload, server error, timeout, broken or malformed reply)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Rejected(Exception):
    """The server refused this one request (e.g. 400: too long); trying again changes nothing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# The slice of the chat-completions response faithbench reads; anything else is ignored.
class _Message(BaseModel):
    content: str | None = None
    reasoning_content: str | None = None  # DeepSeek reasoner (and vLLM reasoning parsers)


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Usage(BaseModel):
    completion_tokens: int | None = None


class _ChatResponse(BaseModel):
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None


class _TextChoice(BaseModel):
    text: str | None = None
    finish_reason: str | None = None


class _TextResponse(BaseModel):  # POST /completions
    choices: list[_TextChoice] = Field(min_length=1)
    usage: _Usage | None = None


def setting_from_env(name: str, default: N) -> N:
    """A positive number (of `default`'s type) from the environment, or a one-line error naming
    the variable."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    kind = type(default)
    try:
        value = kind(raw)
    except ValueError:
        value = kind(0)
    if value <= 0:
        raise FaithbenchError(f"${name}={raw!r}: expected a positive {kind.__name__}")
    return value


class OpenAICompatBackend(BackendDefaults):
    """Completions from an OpenAI-compatible server, `concurrency` requests at a time.

    `sleep` and `retry` exist so tests can keep backoff waits tiny; defaults come from
    `$FAITHBENCH_CONCURRENCY` (8), `$FAITHBENCH_REQUEST_TIMEOUT` (120 s) and
    `$FAITHBENCH_MAX_ATTEMPTS` (6).
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str | None,
        *,
        concurrency: int | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from openai import OpenAI

        self.model = model
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency or setting_from_env("FAITHBENCH_CONCURRENCY", 8)
        self.timeout = timeout or setting_from_env("FAITHBENCH_REQUEST_TIMEOUT", 120.0)
        self.retry = retry or RetryPolicy(attempts=setting_from_env("FAITHBENCH_MAX_ATTEMPTS", 6))
        self._key = api_key or ""
        add_secret(api_key)  # redacted wherever it turns up, in any spelling (faithbench.sanitize)
        self._client = OpenAI(
            api_key=api_key or NO_KEY, base_url=self.base_url, max_retries=0, timeout=self.timeout
        )
        self._sleep = sleep
        self._rng = random.Random()

    @property
    def identity(self) -> str:
        return f"openai:{self.model}@{self.base_url}"

    @property
    def cacheable(self) -> bool:
        return True

    def __repr__(self) -> str:  # what answers, never the client (it holds the key)
        return f"OpenAICompatBackend({self.identity!r}, concurrency={self.concurrency})"

    def generate(self, requests: list[Request], config: GenerationConfig) -> list[Completion]:
        """Completions in request order; a request that fails every try carries `error`."""
        for request in requests:
            self._check_prompt(request)
        if not requests:
            return []
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests)))
        try:
            return list(pool.map(lambda r: self._complete(r, config), requests))
        finally:  # after a wrong key or Ctrl-C, requests not yet sent are dropped, not sent
            pool.shutdown(wait=False, cancel_futures=True)

    def _check_prompt(self, request: Request) -> None:
        if request.prompt.messages is not None and request.prompt.prefill is not None:
            raise RemoteBackendError(
                f"{self.identity}: request {request.id!r} prefills the reply; the chat API cannot "
                "continue a prefilled reply (use a local hf: or smollm2 model)"
            )

    def _complete(self, request: Request, config: GenerationConfig) -> Completion:
        attempt = 1
        while True:
            try:
                return self._call(request, config)
            except _Rejected as exc:
                return Completion(text="", error=exc.reason)
            except _Retry as exc:
                if attempt == self.retry.attempts:
                    return Completion(text="", error=f"{exc.reason} (gave up after {attempt} tries)")
                wait = self.retry.delay(attempt, exc.retry_after, self._rng)
                attempt += 1
                log.warning("%s: %s; try %d in %.2fs", for_terminal(request.id), exc.reason, attempt, wait)
                self._sleep(wait)

    def _call(self, request: Request, config: GenerationConfig) -> Completion:
        import openai

        sampling: Any = {
            "model": self.model,
            "max_tokens": config.max_new_tokens,
            "temperature": config.temperature,
            "top_p": config.top_p,
            "seed": config.seed,
            "stop": list(config.stop) or openai.omit,
        }
        prompt = request.prompt
        try:
            if prompt.text is not None:
                text = prompt.text + (prompt.prefill or "")
                raw = self._client.completions.with_raw_response.create(prompt=text, **sampling)
                return self._parse_text(raw.text)
            assert prompt.messages is not None
            messages: Any = [{"role": role, "content": content} for role, content in prompt.messages]
            raw = self._client.chat.completions.with_raw_response.create(messages=messages, **sampling)
        except openai.APITimeoutError:
            raise _Retry(f"no response within {self.timeout:g}s") from None
        except openai.APIConnectionError as exc:
            raise _Retry(f"connection error ({type(exc.__cause__).__name__})") from None
        except openai.APIStatusError as exc:
            raise self._status_failure(exc.status_code, exc.response.text, exc.response.headers) from None
        return self._parse(raw.text)

    def _status_failure(self, status: int, body: str, headers: Any) -> Exception:
        reason = self._scrub(f"HTTP {status}: {excerpt(body)}")
        if status in FATAL_STATUSES:
            return RemoteBackendError(f"{self.identity}: {reason}")
        if status in RETRY_STATUSES or status >= 500:
            return _Retry(reason, retry_after_seconds(headers.get("retry-after")))
        return _Rejected(reason)

    def _validated(self, body: str, schema: type[R]) -> R:
        try:
            return schema.model_validate_json(body)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "body"
            raise _Retry(
                self._scrub(f"malformed response ({where}: {err['msg']}): {excerpt(body)}")
            ) from None

    def _parse_text(self, body: str) -> Completion:
        response = self._validated(body, _TextResponse)
        choice = response.choices[0]
        return Completion(
            text=self._secrets_out(choice.text or ""),
            finish_reason=finish_reason(choice.finish_reason),
            n_tokens=response.usage.completion_tokens if response.usage else None,
        )

    def _parse(self, body: str) -> Completion:
        response = self._validated(body, _ChatResponse)
        choice = response.choices[0]
        return Completion(
            text=self._secrets_out(choice.message.content or ""),
            reasoning=self._secrets_out(choice.message.reasoning_content or "") or None,
            finish_reason=finish_reason(choice.finish_reason),
            n_tokens=response.usage.completion_tokens if response.usage else None,
        )

    def _secrets_out(self, text: str) -> str:
        """A reply that echoes the key (`Bearer <key>`, escaped or not) is stored without it."""
        return redact(text, known_secrets() | ({self._key} if self._key else set()))

    def _scrub(self, text: str) -> str:
        """Servers sometimes echo the key they were sent, escaped or not; it must not reach run files
        or logs. Server text is printed in warnings, so terminal controls go too."""
        return for_terminal(redact(text, known_secrets() | ({self._key} if self._key else set())))


def finish_reason(api_reason: str | None) -> Literal["stop", "length", "unknown"]:
    """The API's reason (stop, length, content_filter, tool_calls, ...) in faithbench's terms."""
    if api_reason == "stop":
        return "stop"
    if api_reason == "length":
        return "length"
    return "unknown"


def excerpt(body: str) -> str:
    """The start of a response body on one line, for an error reason."""
    text = " ".join(body.split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "..."


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date (RFC 9110); None if absent
    or unreadable. Capping is the retry policy's job."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def openai_backend(rest: str) -> OpenAICompatBackend:
    """`openai:<model>[@<base_url>]`: key from `$OPENAI_API_KEY` (optional for a local server)."""
    model, at, base_url = rest.partition("@")
    spec = f"openai:{rest}"
    if not model:
        raise RemoteBackendError(f"model spec {spec!r}: 'openai:' needs a model name after it")
    key = os.environ.get("OPENAI_API_KEY") or None
    if not at:
        if key is None:
            raise RemoteBackendError(f"model spec {spec!r}: set $OPENAI_API_KEY to use the OpenAI API")
        base_url = OPENAI_BASE_URL
    return OpenAICompatBackend(model, checked_url(base_url, f"model spec 'openai:{model}@...'"), key)


def deepseek_backend(model: str) -> OpenAICompatBackend:
    """`deepseek:<model>`: the DeepSeek API (`$DEEPSEEK_BASE_URL` overrides its URL), key from
    `$DEEPSEEK_API_KEY`."""
    if not model:
        raise RemoteBackendError(
            "model spec 'deepseek:' needs a model name (deepseek-chat, deepseek-reasoner)"
        )
    key = os.environ.get("DEEPSEEK_API_KEY")
    if not key:
        raise RemoteBackendError(
            f"model spec 'deepseek:{model}': set $DEEPSEEK_API_KEY to use the DeepSeek API"
        )
    base_url = os.environ.get("DEEPSEEK_BASE_URL") or DEEPSEEK_BASE_URL
    return OpenAICompatBackend(model, checked_url(base_url, "$DEEPSEEK_BASE_URL"), key)


def checked_url(url: str, source: str) -> str:
    """An http(s) base URL without credentials in it (the URL is part of the identity, which run
    files, caches and the results database store): no user-info, no query string or fragment."""
    if "@" in url or "?" in url or "#" in url or has_secret(url):  # the message must not echo them
        raise RemoteBackendError(
            f"{source}: credentials in the base URL (user-info, a query string or a fragment) would be "
            "written to run files; give the plain URL, and the key in the API key variable"
        )
    if not url.startswith(("http://", "https://")):
        raise RemoteBackendError(f"{source}: the base URL {url!r} must start with http:// or https://")
    return url
