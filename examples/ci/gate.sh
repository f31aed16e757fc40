#!/usr/bin/env bash
# Evaluate a candidate checkpoint on the same items as a stored baseline run and gate on it.
#   examples/ci/gate.sh BASELINE_RUN CANDIDATE_SPEC [LIMIT]
# Exit 0: no gated metric significantly worse; 1: a regression; 2: usage or data error.
set -euo pipefail
baseline=${1:?baseline run directory}
candidate=${2:?candidate model spec, e.g. hf:out/checkpoint or smollm2+lora:out/adapter}
limit=${3:-200}
faithbench=${FAITHBENCH:-.venv/bin/faithbench}

"$faithbench" eval --model "$candidate" --task gsm8k --limit "$limit" --out runs/candidate --quiet
"$faithbench" compare "$baseline" runs/candidate --markdown runs/compare.md --report runs/compare.html
"$faithbench" gate --baseline "$baseline" --candidate runs/candidate \
  --metric accuracy --metric step_arithmetic --metric answer_consistency --alpha 0.05 --margin 0.01 \
  | tee runs/gate.md
