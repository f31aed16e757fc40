import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from faithbench.metrics import METRICS
from faithbench.registry import Registry, RegistryError
from faithbench.tasks.registry import TASKS

BIN = Path(sys.executable).parent


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(RegistryError) as err:
        METRICS.get("step_arithmatic")
    assert "Did you mean 'step_arithmetic'" in str(err.value)
    with pytest.raises(RegistryError, match="Did you mean 'gsm8k-fewshot'"):
        TASKS.get("gsm8k-fewsht")


def test_duplicate_registration_is_refused() -> None:
    reg: Registry[int] = Registry("thing")
    reg.add("a", 1)
    with pytest.raises(RegistryError, match="already registered"):
        reg.add("a", 2)
    reg.add("a", 3, replace=True)
    assert reg.get("a") == 3


def test_builtin_metrics_have_the_issue_names_and_descriptions() -> None:
    expected = {
        "accuracy",
        "strict_accuracy",
        "format_compliance",
        "step_arithmetic",
        "answer_consistency",
        "number_grounding",
    }
    assert expected <= set(METRICS.names())
    assert all(METRICS.get(n).description for n in expected)


PLUGIN = '''
from faithbench.metrics import Score, register_metric


@register_metric()
def rationale_has_equals(item, parsed):
    """1 when the rationale writes at least one '=' (plug-in test metric)."""
    return Score(value=float("=" in parsed.rationale))
'''


def test_metric_plugin_installed_through_entry_point(tmp_path: Path, data_dir: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "fb_test_plugin.py").write_text(PLUGIN)
    (pkg / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "fb-test-plugin"
            version = "0.0.1"
            [tool.setuptools]
            py-modules = ["fb_test_plugin"]
            [project.entry-points."faithbench.metrics"]
            rationale_has_equals = "fb_test_plugin"
            """
        )
    )
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(pkg)],
        check=True,
    )
    env = {
        "PYTHONPATH": str(site),
        "PATH": str(BIN),
        "FAITHBENCH_DATA_DIR": str(data_dir),
        "FAITHBENCH_DB": os.environ["FAITHBENCH_DB"],
    }
    listed = subprocess.run([BIN / "faithbench", "metrics", "list"], capture_output=True, text=True, env=env)
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith("rationale_has_equals "))
    assert line.endswith("1 when the rationale writes at least one '=' (plug-in test metric).")

    preds = tmp_path / "preds.jsonl"
    preds.write_text('{"id": "test-0", "completion": "16 - 3 - 4 = 9 and 9 * 2 = 18\\n#### 18"}\n')
    out = tmp_path / "run"
    run = subprocess.run(
        [
            BIN / "faithbench",
            "eval",
            "--model",
            f"predictions:{preds}",
            "--metrics",
            "rationale_has_equals,accuracy",
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert "rationale_has_equals" in run.stdout
    assert '"rationale_has_equals":{"value":1.0' in (out / "samples.jsonl").read_text()
