"""Results registry (a SQLAlchemy database of finished runs) and the leaderboard built from it.

Names are imported on first use, so that `faithbench.leaderboard.cli` (imported by every
`faithbench` command to build its parser) does not load SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faithbench.leaderboard.db import (
        DEFAULT_URL,
        ENV_VAR,
        DatabaseError,
        RegisteredRun,
        list_runs,
        register_run,
        resolve_db_url,
        safe_url,
        unregister_run,
    )
    from faithbench.leaderboard.rank import FORMATS, build_leaderboard, format_leaderboard, unpaired_p
    from faithbench.leaderboard.schema import Leaderboard, LeaderboardEntry

_WHERE = {
    **dict.fromkeys(
        (
            "DEFAULT_URL",
            "ENV_VAR",
            "DatabaseError",
            "RegisteredRun",
            "list_runs",
            "register_run",
            "resolve_db_url",
            "safe_url",
            "unregister_run",
        ),
        "faithbench.leaderboard.db",
    ),
    **dict.fromkeys(
        ("FORMATS", "build_leaderboard", "format_leaderboard", "unpaired_p"), "faithbench.leaderboard.rank"
    ),
    **dict.fromkeys(("Leaderboard", "LeaderboardEntry"), "faithbench.leaderboard.schema"),
}

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "FORMATS",
    "DatabaseError",
    "Leaderboard",
    "LeaderboardEntry",
    "RegisteredRun",
    "build_leaderboard",
    "format_leaderboard",
    "list_runs",
    "register_run",
    "resolve_db_url",
    "safe_url",
    "unpaired_p",
    "unregister_run",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
