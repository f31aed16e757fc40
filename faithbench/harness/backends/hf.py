"""Hugging Face transformers backend: batched generation with stop strings and optional LoRA adapter."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from faithbench.errors import FaithbenchError
from faithbench.harness.backends.base import Completion, GenerationConfig, LocalWeights, Request
from faithbench.tasks.base import Prompt

if TYPE_CHECKING:
    import torch

    from faithbench.harness.backends.hf_decode import StopCheck

# Files that decide what a model directory answers. Other files (README, optimizer state,
# trainer logs, checkpoint-*/ folders) do not take part in the fingerprint.
FINGERPRINT_SUFFIXES = (".json", ".safetensors", ".bin", ".model", ".txt", ".jinja", ".tiktoken", ".py")
FINGERPRINT_SKIP = frozenset({"trainer_state.json", "training_args.bin", "README.md"})
FULL_HASH_LIMIT = 16 << 20  # files up to this size are hashed whole; larger ones are sampled
SAMPLE_BYTES = 1 << 20

DTYPES = ("float32", "bfloat16", "float16", "auto")


class BackendLoadError(FaithbenchError):
    """A model or adapter that cannot be loaded as given."""


def fingerprint_dir(directory: Path) -> str:
    """A cheap content fingerprint of a model or adapter directory (top level only).

    Small files (configs, tokenizer, adapters up to 16 MiB) are hashed whole; large weight files
    contribute their size and three 1 MiB samples (head, middle, tail). Unlike mtimes this stays
    the same when a directory is copied or re-created with identical content, and any real change
    of weights (fine-tuning rewrites nearly every byte) changes it.
    """
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.name in FINGERPRINT_SKIP or path.name.startswith("."):
            continue
        if not path.name.endswith(FINGERPRINT_SUFFIXES):
            continue
        size = path.stat().st_size
        digest.update(f"{path.name}\0{size}\0".encode())
        with path.open("rb") as fh:
            if size <= FULL_HASH_LIMIT:
                digest.update(fh.read())
            else:
                for offset in (0, size // 2, size - SAMPLE_BYTES):
                    fh.seek(offset)
                    digest.update(fh.read(SAMPLE_BYTES))
    return digest.hexdigest()[:16]


def check_adapter_dir(adapter: str) -> Path:
    """The resolved adapter directory, or a clear error when it holds no PEFT adapter."""
    adapter_dir = Path(adapter).expanduser()
    if not (adapter_dir / "adapter_config.json").is_file():
        what = "no such directory" if not adapter_dir.is_dir() else "no adapter_config.json in it"
        raise BackendLoadError(f"{adapter}: not a PEFT adapter directory ({what})")
    return adapter_dir.resolve()


def _looks_like_path(spec: str) -> bool:
    return spec.startswith(("/", "./", "../", "~", os.sep)) or spec in (".", "..")


class HFBackend(LocalWeights):
    """A causal LM run with `transformers.generate`.

    `model_path` is a local directory (or a hub repo id, when the hub is reachable); `adapter` a
    PEFT LoRA adapter directory. `dtype`: None picks float32 on CPU and bfloat16 on CUDA.
    """

    def __init__(
        self,
        model_path: str,
        adapter: str | None = None,
        batch_size: int = 8,
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = batch_size

        local = Path(model_path).expanduser()
        self.local_dir: Path | None = local.resolve() if local.is_dir() else None
        if self.local_dir is None and (local.exists() or _looks_like_path(model_path)):
            raise BackendLoadError(f"{model_path}: not a model directory")
        self.model_path = str(self.local_dir) if self.local_dir else model_path

        self.adapter_dir = check_adapter_dir(adapter) if adapter is not None else None

        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.dtype = _resolve_dtype(dtype, self.device)

        tokenizer_source = self.model_path
        if self.adapter_dir is not None and (self.adapter_dir / "tokenizer_config.json").is_file():
            tokenizer_source = str(self.adapter_dir)  # a fine-tune's own tokenizer / chat template
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
            model: Any = AutoModelForCausalLM.from_pretrained(self.model_path, dtype=self.dtype)
        except OSError as exc:
            raise BackendLoadError(f"cannot load model {model_path!r}: {exc}") from exc
        if self.tokenizer.pad_token is None:
            if self.tokenizer.eos_token is None:
                raise BackendLoadError(f"{model_path}: tokenizer has neither a pad nor an eos token")
            self.tokenizer.pad_token = self.tokenizer.eos_token

        eos = model.generation_config.eos_token_id
        eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
        if self.tokenizer.eos_token_id is not None and self.tokenizer.eos_token_id not in eos_ids:
            eos_ids.append(self.tokenizer.eos_token_id)
        self.eos_token_ids: tuple[int, ...] = tuple(eos_ids)
        self.pad_token_id: int = self.tokenizer.pad_token_id

        if self.adapter_dir is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(self.adapter_dir))
        from faithbench.harness.backends.hf_decode import Decoder

        self.model = model.to(self.device).eval()
        self.decoder = Decoder(self.model, self.pad_token_id, self.eos_token_ids, self.device)
        self._stop_checks: dict[tuple[str, ...], StopCheck] = {}
        self._identity = self._make_identity()

    # -- Backend protocol ------------------------------------------------------------------------

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def cacheable(self) -> bool:
        return True

    def generate(self, requests: list[Request], config: GenerationConfig) -> list[Completion]:
        """Completions in request order (`stream`, collected). Greedy output does not depend on
        batching; sampled output is reproducible for the same requests, batch size and seed."""
        results: list[Completion | None] = [None] * len(requests)
        for index, completion in self.stream(requests, config):
            results[index] = completion
        assert all(result is not None for result in results)
        return [result for result in results if result is not None]

    def stream(self, requests: list[Request], config: GenerationConfig) -> Iterator[tuple[int, Completion]]:
        """(request index, completion) as each ends: the requests stream through `batch_size` rows,
        longest prompt first, and a row that ends takes the next prompt at once (`hf_decode`)."""
        import torch

        from faithbench.harness.backends.hf_decode import Sampling, shared_prefix_length

        if not requests:
            return
        encoded = [self.encode(request.prompt) for request in requests]
        # Longest first (stable): a refilled row never needs more room than the rows before it had.
        order = sorted(range(len(requests)), key=lambda i: -len(encoded[i]))
        shared = shared_prefix_length(encoded)
        generator = None
        if config.temperature > 0:
            generator = torch.Generator(device=self.device).manual_seed(config.seed)
        sampling = Sampling(temperature=config.temperature, top_p=config.top_p, generator=generator)
        stop = self.stop_check(tuple(config.stop))
        with torch.inference_mode():
            shared_cache = self.decoder.prefill_shared(encoded[0][:shared])
            sequences = [encoded[i] for i in order]
            for position, tokens in self.decoder.stream(
                sequences, shared, shared_cache, config.max_new_tokens, sampling, stop, self.batch_size
            ):
                yield order[position], self._completion(tokens, config)

    # -- helpers ---------------------------------------------------------------------------------

    def render(self, prompt: Prompt) -> str:
        return render_prompt(self.tokenizer, prompt, self.model_path)

    def encode(self, prompt: Prompt) -> list[int]:
        return encode_prompt(self.tokenizer, prompt, self.model_path)

    def stop_check(self, stops: tuple[str, ...]) -> StopCheck | None:
        """The incremental stop-string check for `stops` (built once per set of stops: it decodes
        every vocabulary id); None when there are none."""
        from faithbench.harness.backends.hf_decode import StopCheck

        if not any(stops):
            return None
        if stops not in self._stop_checks:
            vocab = int(self.model.get_output_embeddings().weight.shape[0])
            self._stop_checks[stops] = StopCheck(stops, self._decode, vocab, self.device)
        return self._stop_checks[stops]

    def _completion(self, tokens: list[int], config: GenerationConfig) -> Completion:
        """Decode one row of new tokens: cut at EOS, drop padding, cut before the first stop string."""
        ended_by_eos = False
        for position, token in enumerate(tokens):
            if token in self.eos_token_ids:
                tokens, ended_by_eos = tokens[:position], True
                break
        text = self._decode(tokens)
        found = (text.find(stop) for stop in config.stop if stop)
        cut = min((i for i in found if i >= 0), default=-1)
        finish: Literal["stop", "length"]
        if cut >= 0:
            text, n_tokens, finish = text[:cut], self._tokens_covering(tokens, cut), "stop"
        elif ended_by_eos or len(tokens) < config.max_new_tokens:
            n_tokens, finish = len(tokens), "stop"  # stopped early: EOS
        else:
            n_tokens, finish = len(tokens), "length"
        return Completion(text=text, finish_reason=finish, n_tokens=n_tokens)

    def _decode(self, tokens: list[int]) -> str:
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        assert isinstance(text, str)
        return text

    def _tokens_covering(self, tokens: list[int], cut: int) -> int:
        """The fewest leading tokens whose text reaches `cut` characters: the tokens kept. A token that
        straddles the cut (e.g. '\\nQuestion' for stop 'Question') counts as kept."""
        lo, hi = 0, len(tokens)
        while lo < hi:
            mid = (lo + hi) // 2
            if len(self._decode(tokens[:mid])) >= cut:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _make_identity(self) -> str:
        if self.local_dir is not None:
            model = f"hf:{self.local_dir}#{fingerprint_dir(self.local_dir)}"
        else:  # a hub repo id: pin the resolved commit
            commit = getattr(self.model.config, "_commit_hash", None) or "unknown-revision"
            model = f"hf:{self.model_path}@{commit}"
        dtype = str(self.model.dtype).removeprefix("torch.")
        adapter = ""
        if self.adapter_dir is not None:
            adapter = f"+lora:{self.adapter_dir}#{fingerprint_dir(self.adapter_dir)}"
        return f"{model}{adapter} dtype={dtype}"

    def describe(self) -> dict[str, Any]:
        """Provenance for run files."""
        return {
            "backend": "hf",
            "model_path": self.model_path,
            "adapter": str(self.adapter_dir) if self.adapter_dir else None,
            "device": str(self.device),
            "dtype": str(self.model.dtype).removeprefix("torch."),
            "batch_size": self.batch_size,
            # greedy: prompt-lookup draft tokens checked a row a step (the same tokens, fewer steps)
            "draft_tokens": self.decoder.lookahead,
        }

    def __repr__(self) -> str:
        return f"HFBackend({json.dumps(self.describe())})"


def render_prompt(tokenizer: Any, prompt: Prompt, model_name: str) -> str:
    """The prompt as the model sees it: chat messages through the chat template, text as is,
    followed by the prefilled start of the reply. Shared by every backend that runs local weights,
    so the same model sees the same prompt whichever engine runs it."""
    if prompt.text is not None:
        return prompt.text + (prompt.prefill or "")
    assert prompt.messages is not None
    if not getattr(tokenizer, "chat_template", None):
        raise BackendLoadError(
            f"{model_name}: the tokenizer has no chat template, so chat prompts cannot be "
            "rendered; use a raw-text prompt or a chat model"
        )
    messages = [{"role": role, "content": content} for role, content in prompt.messages]
    rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert isinstance(rendered, str)
    return rendered + (prompt.prefill or "")


def encode_prompt(tokenizer: Any, prompt: Prompt, model_name: str) -> list[int]:
    """Token ids of the rendered prompt. The chat template writes its own special tokens; raw text
    gets the tokenizer's (e.g. BOS)."""
    ids: list[int] = tokenizer(
        render_prompt(tokenizer, prompt, model_name), add_special_tokens=prompt.text is not None
    )["input_ids"]
    if not ids:
        bos = tokenizer.bos_token_id
        if bos is None:
            raise ValueError("empty prompt, and the tokenizer has no BOS token to start from")
        ids = [bos]
    return ids


def _resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype | str:
    import torch

    if dtype is None:
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    return dtype if dtype == "auto" else getattr(torch, dtype)
