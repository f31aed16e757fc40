"""`eval --dtype/--device` for local weights: where they apply, what they change in the run's model
identity (and so in the response-cache key and the resume check), and what run.json records.

The slow tests run the real SmolLM2-135M-Instruct on this CPU in float32 and bfloat16 (2 items)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import torch

from faithbench.cli import build_parser, main
from faithbench.harness.backends import BackendSpecError, load_backend
from faithbench.harness.store import RunDir


@pytest.mark.parametrize(
    ("spec", "option", "needle"),
    [
        ("predictions:x.jsonl", {"dtype": "float16"}, "--dtype applies to local weights"),
        ("openai:gpt@http://127.0.0.1:9/v1", {"dtype": "bfloat16"}, "--dtype applies to local weights"),
        ("deepseek:deepseek-chat", {"device": "cpu"}, "--device applies to smollm2 and hf:"),
        ("vllm:smollm2", {"device": "cpu"}, "--device applies to smollm2 and hf:"),
    ],
)
def test_options_are_refused_where_they_do_not_apply(spec: str, option: dict[str, str], needle: str) -> None:
    with pytest.raises(BackendSpecError, match=needle):
        load_backend(spec, **option)


def test_a_device_this_machine_lacks_fails_before_loading(tmp_path: Path) -> None:
    with pytest.raises(BackendSpecError, match=r"--device 'gpu0': "):
        load_backend(f"hf:{tmp_path}", device="gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(BackendSpecError, match="has 0 CUDA device"):
            load_backend(f"hf:{tmp_path}", device="cuda")
    with pytest.raises(BackendSpecError, match=f"has {torch.cuda.device_count()} CUDA device"):
        load_backend(f"hf:{tmp_path}", device=f"cuda:{torch.cuda.device_count()}")


def test_eval_takes_the_dtypes_it_knows() -> None:
    parser = build_parser()
    args = parser.parse_args(["eval", "--dtype", "bfloat16", "--device", "cpu"])
    assert (args.dtype, args.device) == ("bfloat16", "cpu")
    assert parser.parse_args(["eval"]).dtype is None and parser.parse_args(["eval"]).device == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "--dtype", "float64"])


def _eval(out: Path, *options: str) -> int:
    return main(
        [
            "eval", "--model", "smollm2", "--limit", "2", "--max-new-tokens", "24", "--out", str(out),
            "--quiet", "--no-register", *options,
        ]
    )  # fmt: skip


def _cached(cache_dir: Path) -> int:
    with sqlite3.connect(cache_dir / "responses.sqlite") as db:
        count: int = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    return count


def _completions(run: Path) -> dict[str, str]:
    return {r.id: r.completion for r in RunDir(run).read_samples()}


@pytest.mark.slow
def test_dtype_is_in_the_identity_and_the_cache_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAITHBENCH_CACHE_DIR", str(tmp_path / "cache"))
    half, full = tmp_path / "bf16", tmp_path / "fp32"
    assert _eval(half, "--dtype", "bfloat16", "--device", "cpu") == 0
    assert _eval(full, "--dtype", "float32") == 0
    info_half, info_full = (json.loads((run / "run.json").read_text()) for run in (half, full))
    assert info_half["model_identity"].endswith(" dtype=bfloat16")
    assert info_full["model_identity"].endswith(" dtype=float32")
    assert info_half["model_identity"].removesuffix("bfloat16") == info_full["model_identity"].removesuffix(
        "float32"
    )  # the same weights
    assert info_half["device"] == info_full["device"] == "cpu"
    assert _cached(tmp_path / "cache") == 4  # two keys per item: one per dtype

    # the default on a CPU is float32: the same identity, answered from the cache
    default = tmp_path / "default"
    assert _eval(default) == 0
    assert _cached(tmp_path / "cache") == 4
    assert json.loads((default / "run.json").read_text())["model_identity"] == info_full["model_identity"]
    assert _completions(default) == _completions(full)

    # a run is not resumed in another dtype
    capsys.readouterr()
    assert _eval(half, "--dtype", "float32") == 2
    assert "different model_identity" in capsys.readouterr().err
