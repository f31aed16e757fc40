"""One small generic registry: name -> object, with "did you mean" errors.

Tasks, metrics and backends each keep one `Registry`. Plug-ins from other installed packages are
found through an entry-point group and loaded the first time the registry is read.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from faithbench.errors import FaithbenchError

T = TypeVar("T")


class RegistryError(FaithbenchError, KeyError):
    """An unknown or duplicate name: a FaithbenchError, so the CLI prints it as one line wherever a
    lookup happens, and a KeyError for code that catches missing names. `str()` gives the whole
    message (KeyError quotes it otherwise)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._items: dict[str, T] = {}
        self._plugins_loaded = entry_point_group is None

    def add(self, name: str, item: T, *, replace: bool = False) -> T:
        if name in self._items and not replace and self._items[name] is not item:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def peek(self, name: str) -> T | None:
        """The item under `name` if one is added already, without loading plug-ins."""
        return self._items.get(name)

    def get(self, name: str) -> T:
        self._load_plugins()
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(self._unknown_message(name)) from None

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self._load_plugins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self._items), n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(sorted(self._items)) or '(none)'}."

    def _load_plugins(self) -> None:
        """Import every entry point of the group; importing a plug-in module registers its objects."""
        if self._plugins_loaded or self.entry_point_group is None:
            return
        self._plugins_loaded = True
        for ep in entry_points(group=self.entry_point_group):
            try:
                ep.load()
            except Exception as exc:  # name the broken plug-in instead of a bare traceback
                raise RegistryError(
                    f"{self.kind} plug-in {ep.name!r} ({ep.value}) failed to load: {exc}"
                ) from exc
