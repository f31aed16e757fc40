"""How long `compare` takes on two full GSM8K test runs (1,319 items, every rule metric), side by side
with the same statistics computed by scipy (binomtest / bootstrap(paired=True) / permutation_test),
in one process so machine noise hits both. Target (issue 3): faithbench under 5 s.

    .venv/bin/python benchmarks/compare_speed.py [--data-dir ../shared/data/gsm8k]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

from faithbench.compare import compare_runs
from faithbench.harness.runner import EvalConfig, run_eval
from faithbench.harness.store import RunDir
from faithbench.specs import is_binary


def build_runs(data_dir: str, tmp: Path) -> list[Path]:
    rows = [json.loads(x) for x in (Path(data_dir) / "test.jsonl").read_text().splitlines()]
    outs = []
    for name, every in (("a", 0), ("b", 7)):
        lines = []
        for i, row in enumerate(rows):
            text = re.sub(r"<<[^>]*>>", "", row["answer"])
            if every and i % every == 0:  # break some answers and some equations in run b
                text = text.replace(" = ", " = 1", 1).rsplit("#### ", 1)[0] + "#### 0"
            lines.append(json.dumps({"id": f"test-{i}", "completion": text}))
        preds = tmp / f"{name}.jsonl"
        preds.write_text("\n".join(lines) + "\n")
        out = tmp / name
        run_eval(
            EvalConfig(
                model=f"predictions:{preds}", out=out, data_dir=data_dir, progress=False, register=False
            )
        )
        outs.append(out)
    return outs


def scipy_peer(paths: list[Path], metrics: list[str]) -> None:
    a, b = ({r.id: r for r in RunDir(p).read_samples()} for p in paths)
    for metric in metrics:
        pairs = [(a[i].value(metric), b[i].value(metric)) for i in a if i in b]
        x = np.array([p for p, q in pairs if p is not None and q is not None])
        y = np.array([q for p, q in pairs if p is not None and q is not None])
        stats.bootstrap((x, y), lambda u, v, axis: np.mean(v - u, axis=axis), paired=True, vectorized=True,
                        n_resamples=10_000, method="percentile", random_state=0)  # fmt: skip
        if is_binary(metric):
            bc, cc = int(np.sum((x == 1) & (y == 0))), int(np.sum((x == 0) & (y == 1)))
            stats.binomtest(bc, max(bc + cc, 1), 0.5)
        else:
            stats.permutation_test(
                (x, y), lambda u, v, axis: np.mean(v - u, axis=axis), vectorized=True,
                permutation_type="samples", n_resamples=10_000, random_state=0,
            )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default="../shared/data/gsm8k")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_runs(args.data_dir, Path(tmp))
        start = time.perf_counter()
        report = compare_runs(paths)
        ours = time.perf_counter() - start
        metrics = sorted({c.metric for c in report.comparisons})
        start = time.perf_counter()
        scipy_peer(paths, metrics)
        peer = time.perf_counter() - start
    print(f"items per run: {report.comparisons[0].n}, metrics: {len(metrics)}, resamples: 10,000")
    print(f"{'faithbench compare_runs':28s} {ours:7.2f} s")
    print(f"{'scipy, same statistics':28s} {peer:7.2f} s")
    print(f"{'ratio scipy / faithbench':28s} {peer / ours:7.2f}x   (target: faithbench < 5 s)")


if __name__ == "__main__":
    main()
