import numpy as np
import pytest

from faithbench.stats import bootstrap_mean_interval, summarize, wilson_interval


def test_wilson_matches_textbook_values() -> None:
    # Newcombe (1998), Table I: 5/10 -> 0.2366, 0.7634 ; 0/10 -> 0, 0.2775
    low, high = wilson_interval(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775


def test_bootstrap_is_seeded_and_covers_the_mean() -> None:
    values = np.random.default_rng(1).random(200)
    a = bootstrap_mean_interval(values)
    assert a == bootstrap_mean_interval(values)
    assert a[0] < values.mean() < a[1]
    # the percentile interval is close to the normal-theory one for a mean of 200 uniforms
    se = values.std(ddof=1) / np.sqrt(values.size)
    assert a[0] == pytest.approx(values.mean() - 1.96 * se, abs=0.01)
    assert a[1] == pytest.approx(values.mean() + 1.96 * se, abs=0.01)


def test_summarize_counts_unscored_and_picks_method() -> None:
    s = summarize([1.0, 0.0, None, 1.0], binary=True)
    assert (s.n, s.n_unscored, s.ci_method) == (3, 1, "wilson")
    assert s.mean == pytest.approx(2 / 3)
    empty = summarize([None, None], binary=False)
    assert empty.mean is None and empty.n_unscored == 2
