"""The one interface every model backend implements: batched generation with stop strings, and what
callers may ask of a backend beyond that (prefill, token counts, the items it can answer), so that no
caller has to check which concrete backend it holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from faithbench.core import Completion, GenerationConfig, Request

__all__ = [
    "Backend",
    "BackendDefaults",
    "Completion",
    "GenerationConfig",
    "LocalWeights",
    "Request",
    "Streaming",
]


@runtime_checkable
class Backend(Protocol):
    """A model. `identity` names exactly what answers (weights, adapter, version); it keys the cache."""

    @property
    def identity(self) -> str: ...

    @property
    def cacheable(self) -> bool: ...

    @property
    def accepts_prefill(self) -> bool:
        """Whether the backend continues a `Prompt.prefill` as the start of its own reply (local
        transformers models do; chat APIs refuse an assistant turn to continue)."""
        ...

    def count_tokens(self, text: str) -> int | None:
        """`text`'s length in the model's own tokens; None when the backend has no tokenizer here."""
        ...

    def answerable_ids(self, known: set[str], task: str) -> set[str] | None:
        """The ids among `known` (a task's items) this backend can answer, when it holds fixed
        completions (a predictions file; an id the task lacks is an error naming its line); None
        when it answers any prompt."""
        ...

    def generate(self, requests: list[Request], config: GenerationConfig) -> list[Completion]:
        """One completion per request, in request order."""
        ...


@runtime_checkable
class Streaming(Protocol):
    """A backend that hands back each completion the moment it ends (continuous batching), so that
    a caller given all of a run's requests at once can store each answer as it comes."""

    def stream(self, requests: list[Request], config: GenerationConfig) -> Iterator[tuple[int, Completion]]:
        """(index into `requests`, completion), once per request, in the order they end."""
        ...


class BackendDefaults:
    """The answers of a backend that is a model behind some API: no prefill, no tokenizer, any item.
    Backends inherit it and override what they offer."""

    @property
    def accepts_prefill(self) -> bool:
        return False

    def count_tokens(self, text: str) -> int | None:
        return None

    def answerable_ids(self, known: set[str], task: str) -> set[str] | None:
        return None


class LocalWeights:
    """The answers of a backend that runs local weights with their own tokenizer (transformers, vLLM):
    it renders the prefill after the chat template (`hf.render_prompt`, `hf.encode_prompt`), so it
    continues a prefilled reply, and it counts tokens; it answers any item."""

    tokenizer: Any

    @property
    def accepts_prefill(self) -> bool:
        return True

    def count_tokens(self, text: str) -> int | None:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def answerable_ids(self, known: set[str], task: str) -> set[str] | None:
        return None
