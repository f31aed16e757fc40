"""The one interface every model backend implements: batched generation with stop strings."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from faithbench.core import Completion, GenerationConfig, Request

__all__ = ["Backend", "Completion", "GenerationConfig", "Request"]


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
