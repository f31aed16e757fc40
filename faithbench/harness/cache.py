"""Response cache: SQLite, keyed by what answered (backend identity), the prompt and the generation
config. A rerun of the same evaluation makes no model calls."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from faithbench.harness.backends.base import Backend, Completion, GenerationConfig, Request, Streaming
from faithbench.harness.store import dump_json


def cache_root() -> Path:
    return Path(os.environ.get("FAITHBENCH_CACHE_DIR") or Path.home() / ".cache" / "faithbench")


class ResponseCache:
    """One SQLite file (default `$FAITHBENCH_CACHE_DIR/responses.sqlite`, or `$FAITHBENCH_RESPONSES_DB`)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        default = os.environ.get("FAITHBENCH_RESPONSES_DB") or cache_root() / "responses.sqlite"
        self.path = Path(path if path is not None else default)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, completion TEXT NOT NULL)"
        )
        self._db.commit()

    @staticmethod
    def key(identity: str, request: Request, config: GenerationConfig) -> str:
        prompt = request.prompt.model_dump()
        if prompt["prefill"] is None:  # keys of prompts without a prefill predate the field
            del prompt["prefill"]
        payload = {"identity": identity, "prompt": prompt, "config": config.model_dump()}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def get(self, key: str) -> Completion | None:
        row = self._db.execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
        return Completion.model_validate_json(row[0]) if row else None

    def put_many(self, items: list[tuple[str, Completion]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO responses (key, completion) VALUES (?, ?)",
            [(k, dump_json(c)) for k, c in items],  # credentials redacted (faithbench.sanitize)
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


class CachedBackend:
    """Wraps a backend: hits come from the cache, only misses reach the model."""

    def __init__(self, backend: Backend, cache: ResponseCache) -> None:
        self.backend = backend
        self.cache = cache
        self.hits = 0
        self.misses = 0

    @property
    def identity(self) -> str:
        return self.backend.identity

    @property
    def cacheable(self) -> bool:
        return True

    @property
    def accepts_prefill(self) -> bool:
        return self.backend.accepts_prefill

    def count_tokens(self, text: str) -> int | None:
        return self.backend.count_tokens(text)

    def answerable_ids(self, known: set[str], task: str) -> set[str] | None:
        return self.backend.answerable_ids(known, task)

    def _lookup(
        self, requests: list[Request], config: GenerationConfig
    ) -> tuple[list[str], list[Completion | None], list[int]]:
        """Each request's cache key, its cached completion (None on a miss) and the misses' indices;
        the hit and miss counts are updated."""
        keys = [self.cache.key(self.identity, r, config) for r in requests]
        found = [self.cache.get(k) for k in keys]
        missing = [i for i, c in enumerate(found) if c is None]
        self.hits += len(requests) - len(missing)
        self.misses += len(missing)
        return keys, found, missing

    def generate(self, requests: list[Request], config: GenerationConfig) -> list[Completion]:
        keys, found, missing = self._lookup(requests, config)
        if missing:
            fresh = self.backend.generate([requests[i] for i in missing], config)
            # A failed call is not an answer: caching it would replay the failure on every rerun.
            self.cache.put_many(
                [(keys[i], c) for i, c in zip(missing, fresh, strict=True) if c.error is None]
            )
            for i, completion in zip(missing, fresh, strict=True):
                found[i] = completion
        return [c for c in found if c is not None]

    def stream(self, requests: list[Request], config: GenerationConfig) -> Iterator[tuple[int, Completion]]:
        """Hits first, then each miss as the wrapped backend ends it, stored in the cache at once (a
        kill loses no finished answer; a failed one is not stored, as in `generate`)."""
        if not isinstance(self.backend, Streaming):
            raise TypeError(f"{type(self.backend).__name__} does not stream; call generate")
        keys, found, missing = self._lookup(requests, config)
        yield from ((i, c) for i, c in enumerate(found) if c is not None)
        for position, completion in self.backend.stream([requests[i] for i in missing], config):
            index = missing[position]
            if completion.error is None:
                self.cache.put_many([(keys[index], completion)])
            yield index, completion
