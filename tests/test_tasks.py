import hashlib
import json
from pathlib import Path

import pytest

from faithbench.errors import DataError
from faithbench.tasks.registry import TASKS


def test_ids_targets_and_data_hash(data_dir: Path, test_rows: list[dict[str, str]]) -> None:
    items, info = TASKS.get("gsm8k").load(data_dir)
    assert len(items) == len(test_rows) == 1319
    assert items[0].id == "test-0" and items[1318].id == "test-1318"
    assert items[0].target == "18"
    assert items[0].question == test_rows[0]["question"]
    assert info.sha256 == hashlib.sha256((data_dir / "test.jsonl").read_bytes()).hexdigest()
    assert info.n_rows == 1319 and info.split == "test"


def test_env_var_resolution_and_explicit_dir_wins(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAITHBENCH_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(DataError, match="FAITHBENCH_DATA_DIR"):
        TASKS.get("gsm8k").load()
    items, _ = TASKS.get("gsm8k").load(data_dir, limit=3)
    assert [i.id for i in items] == ["test-0", "test-1", "test-2"]


def test_fewshot_prompt_is_lm_eval_format(data_dir: Path) -> None:
    task = TASKS.get("gsm8k-fewshot")
    train = [json.loads(line) for line in (data_dir / "train.jsonl").open()][:2]
    items, _ = task.load(data_dir, limit=1)
    prompt = task.prompt(items[0], task.fewshot_rows(2, data_dir))
    expected = (
        f"Question: {train[0]['question']}\nAnswer: {train[0]['answer']}\n\n"
        f"Question: {train[1]['question']}\nAnswer: {train[1]['answer']}\n\n"
        f"Question: {items[0].question}\nAnswer:"
    )
    assert prompt.text == expected
    assert task.stop == ("Question:", "</s>", "<|im_end|>")


def test_chat_prompt_asks_for_strict_format(data_dir: Path) -> None:
    task = TASKS.get("gsm8k")
    items, _ = task.load(data_dir, limit=1)
    prompt = task.prompt(items[0])
    assert prompt.messages is not None and prompt.messages[0][0] == "user"
    assert "#### <number>" in prompt.messages[0][1] and items[0].question in prompt.messages[0][1]


def test_socratic_shares_ids_and_questions(data_dir: Path) -> None:
    main, _ = TASKS.get("gsm8k").load(data_dir, limit=5)
    socratic, info = TASKS.get("gsm8k-socratic").load(data_dir, limit=5)
    assert [i.id for i in main] == [i.id for i in socratic]
    assert [i.target for i in main] == [i.target for i in socratic]
    assert info.source.endswith("test_socratic.jsonl")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"question": "q", "answer": "#### 1"}\n{"question": "q"\n', r"test.jsonl:2: not valid JSON"),
        (b'{"question": "q", "answer": "#### 1"}\n{"answer": "#### 2"}\n', r"test.jsonl:2: field 'question'"),
        (b'{"question": "q", "answer": "no marker"}\n', r"test.jsonl:1: field 'answer': has no '####"),
        (b'{"question": "q\xff", "answer": "#### 1"}\n', r"test.jsonl:1: not valid UTF-8"),
    ],
)
def test_bad_data_file_names_file_line_and_field(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "test.jsonl").write_bytes(content)
    with pytest.raises(DataError, match=message):
        TASKS.get("gsm8k").load(tmp_path)


def test_unreachable_hub_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAITHBENCH_DATA_DIR")
    # fail at once, as an offline machine does after its retries (the flags are read at import time)
    import datasets
    import huggingface_hub

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DataError, match=r"from the hub.*--data-dir or set FAITHBENCH_DATA_DIR"):
        TASKS.get("gsm8k").load()
