"""Results registry (a SQLAlchemy database of finished runs) and the leaderboard built from it.

Importing this package loads SQLAlchemy; the `faithbench` command imports it only inside the
commands that use the database."""

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
from faithbench.leaderboard.rank import build_leaderboard, unpaired_p
from faithbench.leaderboard.schema import Leaderboard, LeaderboardEntry

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "DatabaseError",
    "Leaderboard",
    "LeaderboardEntry",
    "RegisteredRun",
    "build_leaderboard",
    "list_runs",
    "register_run",
    "resolve_db_url",
    "safe_url",
    "unpaired_p",
    "unregister_run",
]
