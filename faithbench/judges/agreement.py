"""Agreement statistics of judge-check and the validity suites: rates, Cohen's kappa, ProcessBench's F1."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, computed_field


class Rate(BaseModel):
    """`hits` of `n` cases; `value` None when there are none."""

    hits: int
    n: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        return self.hits / self.n if self.n else None

    def show(self, width: int = 0) -> str:
        return "-" if self.value is None else f"{self.value:{width}.1%} ({self.hits}/{self.n})"


def rate(flags: Iterable[bool | None]) -> Rate:
    """The share of true flags (None counts as false)."""
    values = [bool(f) for f in flags]
    return Rate(hits=sum(values), n=len(values))


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa of two raters' yes/no labels of the same cases: (p_o - p_e) / (1 - p_e), with
    p_o the observed agreement and p_e the agreement expected from each rater's own rates. None when
    undefined: no cases, or both raters always give one and the same label (p_e = 1)."""
    if len(a) != len(b):
        raise ValueError(f"kappa needs paired labels, got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    yes_a, yes_b = sum(a) / n, sum(b) / n
    expected = yes_a * yes_b + (1 - yes_a) * (1 - yes_b)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def harmonic_mean(x: float | None, y: float | None) -> float | None:
    """ProcessBench's F1: the harmonic mean of the accuracy on erroneous solutions (first error step
    exactly right) and on correct ones (no error reported); 0 when either is 0."""
    if x is None or y is None:
        return None
    return 0.0 if x + y == 0 else 2 * x * y / (x + y)
