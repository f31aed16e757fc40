"""The one interface every model backend implements: batched generation with stop strings."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from faithbench.tasks.base import Prompt


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


@runtime_checkable
class Backend(Protocol):
    """A model. `identity` names exactly what answers (weights, adapter, version); it keys the cache."""

    @property
    def identity(self) -> str: ...

    @property
    def cacheable(self) -> bool: ...

    def generate(self, requests: list[Request], config: GenerationConfig) -> list[Completion]:
        """One completion per request, in request order."""
        ...
