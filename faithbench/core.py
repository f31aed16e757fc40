"""The types every layer shares: a task's `Item` and `Prompt`, a backend's `Request`, `GenerationConfig`
and `Completion`, a metric's `Score` and `MetricSpec`. This module imports nothing of faithbench;
everything else imports downward from it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Item(BaseModel):
    """One question of a task, with its gold answer.

    `id` is `<split>-<0-based row index>` and is stable across runs, so runs pair up by id.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    target: str  # the gold final answer, normalised (see parsing.answers.normalize_number)
    reference: str | None = None  # the gold rationale, when the data set has one


class Prompt(BaseModel):
    """A chat prompt (`messages`) or a raw completion prompt (`text`), exactly one of them.

    `prefill` is the start of the model's reply, written for it: the model continues from there
    and the completion holds only the continuation. Intervention tests use it to hand a model a
    truncated or corrupted chain of thought; judges use it to start a JSON verdict.
    """

    model_config = ConfigDict(frozen=True)

    messages: tuple[tuple[str, str], ...] | None = None  # (role, content) pairs
    text: str | None = None
    prefill: str | None = None

    def model_post_init(self, __context: object) -> None:
        if (self.messages is None) == (self.text is None):
            raise ValueError("a Prompt has exactly one of `messages` and `text`")

    @property
    def display(self) -> str:
        """The prompt as one string, for run files and reports."""
        if self.text is not None:
            return self.text + (self.prefill or "")
        assert self.messages is not None
        shown = "\n\n".join(f"[{role}]\n{content}" for role, content in self.messages)
        return shown if self.prefill is None else f"{shown}\n\n[assistant, prefilled]\n{self.prefill}"


class GenerationConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_new_tokens: int = Field(256, ge=1, description="Upper bound on generated tokens per sample.")
    temperature: float = Field(0.0, ge=0.0, description="0 means greedy decoding.")
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    seed: int = Field(0, description="Seed for sampled decoding; irrelevant when greedy.")
    stop: tuple[str, ...] = Field((), description="Generation stops before the first of these strings.")


class Request(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    prompt: Prompt


class Completion(BaseModel):
    """What a model produced for one request. `reasoning` is a separate reasoning channel, if any
    (e.g. an API's `reasoning_content`); `<think>` blocks inside `text` are split out by the parser.
    `error` says why a remote model produced nothing (retries exhausted, request refused): such a
    completion is neither cached nor stored as a sample, so a rerun asks again."""

    text: str
    reasoning: str | None = None
    finish_reason: Literal["stop", "length", "unknown"] = "unknown"
    n_tokens: int | None = None
    error: str | None = None


class Score(BaseModel):
    """One metric's verdict on one sample: a value in [0, 1], or unscored (`value` None) with the
    `reason` why; `details` holds the facts behind it (which step was wrong, the computed value...).
    `SampleRecord.scores` maps each metric's name to its Score, as inspect-ai's `EvalSample.scores`."""

    value: float | None
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Score:
        if self.value is None and not self.reason:
            raise ValueError("an unscored Score needs a reason")
        if self.value is not None and not 0.0 <= self.value <= 1.0:
            raise ValueError(f"score {self.value} is outside [0, 1]")
        return self

    @classmethod
    def unscored(cls, reason: str, **details: Any) -> Score:
        return cls(value=None, reason=reason, details=details)


MetricKind = Literal["rule", "judge", "intervention"]


class MetricSpec(BaseModel):
    """What callers need to know of a metric without running it.

    `kind` says what computes it: `rule` a pure function of (item, parsed completion) (`eval`,
    `score`, GRPO rewards), `judge` an LLM judge (`--judge`), `intervention` the model answering new
    prompts (`faithbench intervene`). `binary` metrics only ever score 0 or 1: they get Wilson CIs and
    the exact McNemar test, the others a bootstrap CI and a sign-flip test. `higher_is_better` sets
    the direction `compare` and `gate` read a change in."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    binary: bool
    kind: MetricKind
    higher_is_better: bool = True
