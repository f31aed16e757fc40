"""Paired statistics against scipy/statsmodels, and compare/gate on real runs built from GSM8K references."""

import json
import re
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pytest
from conftest import as_written_before_the_verdict
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower

from faithbench import stats as fb_stats
from faithbench.cli import main
from faithbench.compare import compare_runs, gate
from faithbench.errors import FaithbenchError
from faithbench.reports.gate import verdict_markdown


@pytest.mark.parametrize(
    ("b", "c"), [(0, 0), (0, 1), (1, 0), (3, 3), (2, 9), (10, 4), (0, 25), (37, 61), (400, 455)]
)
def test_mcnemar_is_the_exact_binomial_test(b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else stats.binomtest(b, b + c, 0.5).pvalue
    assert fb_stats.mcnemar_exact(b, c) == pytest.approx(expected, abs=1e-9)


def test_bootstrap_ci_agrees_with_scipy_paired_bootstrap() -> None:
    rng = np.random.default_rng(7)
    a = rng.random(300)
    b = np.clip(a + rng.normal(0.05, 0.2, 300), 0, 1)
    low, high = fb_stats.bootstrap_mean_interval(b - a, 10_000)
    ref = stats.bootstrap(
        (a, b), lambda x, y, axis: np.mean(y - x, axis=axis), paired=True, vectorized=True,
        n_resamples=10_000, method="percentile", random_state=1,
    ).confidence_interval  # fmt: skip
    width = high - low
    assert low == pytest.approx(ref.low, abs=0.05 * width)
    assert high == pytest.approx(ref.high, abs=0.05 * width)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sign_flip_exact_matches_scipy_permutation_test(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.random(9), rng.random(9) + 0.2 * seed
    ref = stats.permutation_test(
        (a, b), lambda x, y, axis: np.mean(y - x, axis=axis), permutation_type="samples",
        vectorized=True, n_resamples=np.inf, alternative="two-sided",
    ).pvalue  # fmt: skip
    assert fb_stats.sign_flip_p(b - a) == pytest.approx(ref, abs=1e-9)


def test_sign_flip_monte_carlo_is_close_to_exact() -> None:
    rng = np.random.default_rng(3)
    diffs = rng.normal(0.1, 1.0, 16)  # 2^16 > 10,000: Monte Carlo path
    exact = fb_stats.sign_flip_p(diffs, n_resamples=2**16)
    assert fb_stats.sign_flip_p(diffs, n_resamples=10_000) == pytest.approx(exact, abs=0.015)
    assert fb_stats.sign_flip_p(np.zeros(50)) == 1.0


@pytest.mark.parametrize("method", ["holm", "bh"])
def test_adjustment_matches_statsmodels(method: str) -> None:
    p = np.random.default_rng(4).random(23) ** 3
    expected = multipletests(p, method={"holm": "holm", "bh": "fdr_bh"}[method])[1]
    assert fb_stats.adjust(list(p), method) == pytest.approx(list(expected), abs=1e-12)


def test_mde_is_the_normal_power_solution() -> None:
    diffs = np.random.default_rng(5).normal(0, 0.4, 250)
    effect = NormalIndPower().solve_power(nobs1=250, alpha=0.05, power=0.8, ratio=0)
    assert fb_stats.minimum_detectable_effect(diffs) == pytest.approx(effect * diffs.std(ddof=1), rel=1e-6)


# --- real runs ---------------------------------------------------------------------------------------


def make_run(
    tmp: Path, name: str, rows: list[dict[str, str]], wrong: Collection[int] = (), task: str = "gsm8k"
) -> Path:
    """A run of reference solutions as predictions, with the final answer of items in `wrong` broken."""
    lines = []
    for i, row in enumerate(rows):
        text = re.sub(r"<<[^>]*>>", "", row["answer"])
        if i in wrong:
            gold = text.rsplit("#### ", 1)[1]
            text = text.rsplit("#### ", 1)[0] + f"#### {int(float(gold.replace(',', ''))) + 1}"
        lines.append(json.dumps({"id": f"test-{i}", "completion": text}))
    preds = tmp / f"{name}.jsonl"
    preds.write_text("\n".join(lines) + "\n")
    out = tmp / name
    assert (
        main(["eval", "--model", f"predictions:{preds}", "--task", task, "--out", str(out), "--quiet"]) == 0
    )
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, test_rows: list[dict[str, str]]) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("cmp")
    rows = test_rows[:200]
    return {
        "base": make_run(tmp, "base", rows),
        "same": make_run(tmp, "same", rows),
        "few": make_run(tmp, "few", rows, wrong={3, 50, 120}),
        "bad": make_run(tmp, "bad", rows, wrong=set(range(0, 200, 3))),
        "short": make_run(tmp, "short", rows[:150]),
        "socratic": make_run(tmp, "socratic", rows[:20], task="gsm8k-socratic"),
    }


def test_identical_runs_have_zero_delta_and_p_one(runs: dict[str, Path]) -> None:
    report = compare_runs([runs["base"], runs["same"]])
    assert report.comparisons
    for row in report.comparisons:
        assert row.delta == 0 and row.p_value == 1 and row.p_adjusted == 1 and not row.significant
        assert row.ci_low == 0 and row.ci_high == 0
    assert gate(runs["base"], runs["same"], metrics=["accuracy", "answer_consistency"]).exit_code == 0


def test_a_handful_of_flips_is_noise_and_many_are_a_regression(runs: dict[str, Path]) -> None:
    few = gate(runs["base"], runs["few"])
    assert few.exit_code == 0
    row = few.report.comparisons[0]
    assert (row.mcnemar_b, row.mcnemar_c) == (3, 0) and row.delta == pytest.approx(-3 / 200)
    assert row.p_value == pytest.approx(stats.binomtest(0, 3, 0.5).pvalue, abs=1e-9)

    bad = gate(runs["base"], runs["bad"], metrics=["accuracy", "strict_accuracy"])
    assert bad.exit_code == 1 and {r.metric for r in bad.failed} == {"accuracy", "strict_accuracy"}
    # a margin wider than the drop tolerates it
    assert gate(runs["base"], runs["bad"], margin=0.5).exit_code == 0
    # the reverse direction is an improvement, never a failure
    assert gate(runs["bad"], runs["base"]).exit_code == 0


def test_three_runs_every_pair_every_metric_adjusted_together(runs: dict[str, Path]) -> None:
    report = compare_runs([runs["base"], runs["few"], runs["bad"]], metrics=["accuracy", "number_grounding"])
    assert [(r.a, r.b, r.metric) for r in report.comparisons] == [
        ("base", "few", "accuracy"), ("base", "few", "number_grounding"),
        ("base", "bad", "accuracy"), ("base", "bad", "number_grounding"),
        ("few", "bad", "accuracy"), ("few", "bad", "number_grounding"),
    ]  # fmt: skip
    expected = multipletests([r.p_value for r in report.comparisons], method="holm")[1]
    assert [r.p_adjusted for r in report.comparisons] == pytest.approx(list(expected))
    grounding = report.comparisons[1]
    assert grounding.test == "sign-flip-permutation" and grounding.mcnemar_b is None


def test_missing_ids_are_reported_and_dropped(runs: dict[str, Path]) -> None:
    report = compare_runs([runs["base"], runs["short"]], metrics=["accuracy"])
    (note,) = report.pairing
    assert note.only_in_a == sorted(f"test-{i}" for i in range(150, 200)) and note.only_in_b == []
    assert report.comparisons[0].n == 150


def test_refuses_different_tasks_and_data(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(FaithbenchError, match="different tasks"):
        compare_runs([runs["base"], runs["socratic"]])
    altered = tmp_path / "altered"
    altered.mkdir()
    for name in ("samples.jsonl", "summary.json"):
        (altered / name).write_bytes((runs["base"] / name).read_bytes())
    info = json.loads((runs["base"] / "run.json").read_text())
    info["data"]["sha256"] = "0" * 64
    (altered / "run.json").write_text(json.dumps(info))
    with pytest.raises(FaithbenchError, match="different data"):
        compare_runs([runs["base"], altered])


def test_cli_compare_json_and_gate_exit_codes(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp.json"
    assert (
        main(["compare", str(runs["base"]), str(runs["bad"]), "--json", str(out), "--correction", "bh"]) == 0
    )
    data = json.loads(out.read_text())
    keys = {"a", "b", "metric", "test", "delta", "ci_low", "ci_high", "p_value", "p_adjusted"}
    assert data["comparisons"] and all(keys <= set(row) for row in data["comparisons"])
    assert data["correction"] == "bh"
    capsys.readouterr()
    assert main(["gate", "--baseline", str(runs["base"]), "--candidate", str(runs["bad"])]) == 1
    assert "gate failed" in capsys.readouterr().out
    assert main(["gate", "--baseline", str(runs["base"]), "--candidate", str(runs["few"])]) == 0
    assert main(["gate", "--baseline", str(runs["base"]), "--candidate", str(tmp_path / "nope")]) == 2
    assert main(["gate", "--baseline", str(runs["base"]), "--candidate", str(runs["socratic"])]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["gate", "--baseline", str(runs["base"])])
    assert usage.value.code == 2


# --- the process verdict (issue 12): one binary "a rule metric flags a step" per sample --------------

PROCESS_METRICS = ("step_arithmetic", "number_grounding", "answer_consistency")


def _raw_samples(run: Path) -> dict[str, dict]:
    """samples.jsonl as plain JSON: the expectations below do not go through faithbench's reader."""
    lines = (run / "samples.jsonl").read_text().splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def _flagged(row: dict) -> bool | None:
    """Whether a rule metric flags a step of the sample; None when none of them scored it."""
    if all(row["scores"].get(name, {}).get("value") is None for name in PROCESS_METRICS):
        return None
    return row["first_error_step"] is not None


def test_process_error_row_is_mcnemar_on_flagged_steps(runs: dict[str, Path]) -> None:
    report = compare_runs([runs["base"], runs["bad"]])
    row = next(r for r in report.comparisons if r.metric == "process_error")
    assert report.comparisons[-1] is row and row.test == "mcnemar-exact" and not row.higher_is_better
    base, bad = _raw_samples(runs["base"]), _raw_samples(runs["bad"])
    pairs = [(_flagged(base[i]), _flagged(bad[i])) for i in base]
    kept = [(x, y) for x, y in pairs if x is not None and y is not None]
    assert row.n == len(kept) > 0
    assert row.mean_a == pytest.approx(sum(x for x, _ in kept) / len(kept))
    assert row.mean_b == pytest.approx(sum(y for _, y in kept) / len(kept))
    table = [
        [sum(not x and not y for x, y in kept), sum(not x and y for x, y in kept)],
        [sum(x and not y for x, y in kept), sum(x and y for x, y in kept)],
    ]
    # b / c: items unflagged in A and flagged in B / flagged in A and unflagged in B
    assert (row.mcnemar_b, row.mcnemar_c) == (table[0][1], table[1][0])
    assert row.p_value == pytest.approx(mcnemar(table, exact=True).pvalue, abs=1e-12)
    # a planted wrong final answer is flagged wherever answer_consistency scored it: no equation derives it
    planted = [bad[f"test-{i}"] for i in range(0, 200, 3)]
    judged = [r for r in planted if r["scores"]["answer_consistency"]["value"] is not None]
    assert len(judged) > len(planted) / 2 and all(_flagged(r) for r in judged)
    assert row.delta is not None and row.delta > 0 and row.improvement == -row.delta and row.significant
    for side, rows in ((row.first_step_a, base), (row.first_step_b, bad)):
        steps = [r["first_error_step"] for r in rows.values() if _flagged(r)]
        assert side == (pytest.approx(np.mean(steps)) if steps else None)
    # more flagged steps is worse: a regression for the gate, and the reverse an improvement
    worse = gate(runs["base"], runs["bad"], metrics=["process_error"])
    assert worse.exit_code == 1 and [r.metric for r in worse.failed] == ["process_error"]
    assert "| process_error (first flagged step) |" in verdict_markdown(worse)
    assert gate(runs["bad"], runs["base"], metrics=["process_error"]).exit_code == 0
    # named metrics leave it out unless named
    assert "process_error" not in {
        r.metric for r in compare_runs([runs["base"], runs["bad"]], ["accuracy"]).comparisons
    }


def test_cli_compare_prints_the_process_row(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compare", str(runs["base"]), str(runs["bad"])]) == 0
    out = capsys.readouterr().out
    row = compare_runs([runs["base"], runs["bad"]]).comparisons[-1]
    line = next(x for x in out.splitlines() if "process_error (first flagged step)" in x)
    assert line.split()[:2] == ["base", "bad"] and f"{row.delta:+.3f}" in line and "mcnemar-exact" in line
    note = next(x for x in out.splitlines() if x.startswith("process_error (lower is better)"))
    assert f"base {row.mean_a:.3f} flagged" in note and f"bad {row.mean_b:.3f} flagged" in note
    assert row.first_step_b is not None and f"mean first flagged step {row.first_step_b:.2f}" in note


def test_a_run_written_before_the_verdict_compares_as_if_fresh(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = as_written_before_the_verdict(runs["base"], tmp_path / "old")
    report = compare_runs([old, runs["bad"]])
    fresh = compare_runs([runs["base"], runs["bad"]])
    # the verdict is read from the upgraded details (faithbench.harness.migrate): every row, the
    # process row included, is what the run in today's format gives
    strip = {"a"}  # the run's label
    assert [r.model_dump(exclude=strip) for r in report.comparisons] == [
        r.model_dump(exclude=strip) for r in fresh.comparisons
    ]
    assert report.comparisons[-1].metric == "process_error" and report.comparisons[-1].n > 0
    md, page = tmp_path / "cmp.md", tmp_path / "cmp.html"
    args = ["compare", str(old), str(runs["bad"]), "--markdown", str(md), "--report", str(page)]
    assert main(args) == 0
    assert "process_error (first flagged step)" in capsys.readouterr().out
    assert "| process_error (first flagged step) |" in md.read_text()
