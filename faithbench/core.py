"""The types every layer shares: a task's `Item` and `Prompt`, a backend's `Request`, `GenerationConfig`
and `Completion`. This module imports nothing of faithbench; everything else imports downward from it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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
