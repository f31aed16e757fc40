"""What `faithbench leaderboard` produces, in every format."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LeaderboardEntry(BaseModel):
    rank: int
    label: str
    model: str
    task: str
    path: str
    registered_at: str
    n: int = Field(description="samples scored on the ranking metric")
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    group: int = Field(
        description="1 = not significantly different from the leader; group k+1 starts at the best run "
        "significantly worse than group k's leader"
    )
    p_vs_group_leader: float | None = Field(description="p-value of the test against its group's leader")
    paired: bool | None = Field(
        description="whether that test paired items by id (runs' samples available and items match)"
    )
    test: str | None = Field(
        None,
        description="the test behind p_vs_group_leader: mcnemar-exact or sign-flip-permutation (paired), "
        "two-proportion-z or welch-z (unpaired, from the stored summaries); None for a group leader",
    )


class Leaderboard(BaseModel):
    task: str | None
    metric: str
    alpha: float
    entries: list[LeaderboardEntry]
    notes: list[str] = Field(
        default_factory=list, description="runs left out (no score on the metric) and tests that fell back"
    )
