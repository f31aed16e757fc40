"""Final-answer extractors against expected answers: faithbench's three and HF math-verify.

Corpus (all local, nothing downloaded):

* `regression`: short texts other tools get wrong (the cases of tests/test_answers.py);
* `gsm8k-<format>`: the 1,319 GSM8K test references, calculator annotations `<<...>>` removed, with
  the final `#### N` line rewritten as `\\boxed{N}` ("The final answer is $\\boxed{N}$."), `#### N`,
  "The answer is N.", "**Answer:** N", or dropped (`prose`: the reference's own last sentence);
  expected: the gold answer;
* `mr-gsm8k` / `mr-gsm8k-prose`: the 340 MR-GSM8K model solutions, steps joined with "\\n", as written
  and without their `#### N` / "The answer is" steps; expected: the model's own answer (its `#### N`
  step), right or wrong.

Printed per corpus and extractor: agreement with the expected answer and time per call (mean, max).
math-verify (if importable) is run as its README shows, `verify(parse(gold), parse(text))`, with its
signal timeouts off (`parsing_timeout=None`, `timeout_seconds=None`).

    .venv/bin/python benchmarks/answer_extraction.py [--data /work/shared/data]
    PYTHONPATH=<dir with math-verify> .venv/bin/python benchmarks/answer_extraction.py
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from faithbench.parsing.answers import EXTRACTORS, normalize_number, numbers_equal

REGRESSION = [
    ("The shirt costs $29.00.", "29"),
    ("She earns $70{,}000$ a year.", "70000"),
    ("The final answer is $\\boxed{8,000}$.", "8000"),
    ("The total is \\boxed{\\$29.00}.", "29"),
    ("So the answer is 42 apples, but 40 of them are green.", "42"),
    ("So the answer is 18. Check: 18 * 2 = 36.", "18"),
    ("The temperature drops to \u221218 degrees.", "-18"),
    ("Each gets 1/2 of the pie.", "0.5"),
    ("The answer is $\\boxed{\\frac{1}{2}}$.", "0.5"),
    ("The city has 1 million people.", "1000000"),
    (
        "Question: 2 + 3?\nAnswer: 2 + 3 = 5\n#### 5\n\nQuestion: 4 * 6?\nAnswer: 4 * 6 = 24\n#### 24\n\n"
        "She buys 3 * 7 = 21 eggs.\n#### 21",
        "21",
    ),
    ("He can watch \\boxed{3} 30-minute episodes.", "3"),
    ("**Answer:** 18", "18"),
    ("Final answer: 20 * 2 = 40 cups of feed.", "40"),
]

Extractor = Callable[[str, str], bool]  # (text, expected) -> agrees


def gsm8k_corpora(data: Path) -> dict[str, list[tuple[str, str]]]:
    rows = [json.loads(line) for line in (data / "gsm8k" / "test.jsonl").read_text().splitlines() if line]
    formats = {
        "boxed": "{body}\nThe final answer is $\\boxed{{{n}}}$.",
        "hash": "{body}\n#### {n}",
        "answer-is": "{body}\nThe answer is {n}.",
        "answer-bold": "{body}\n**Answer:** {n}",
        "prose": "{body}",
    }
    out: dict[str, list[tuple[str, str]]] = {f"gsm8k-{k}": [] for k in formats}
    for row in rows:
        body, _, raw = row["answer"].rpartition("####")
        body = re.sub(r"<<[^>]*>>", "", body).strip()
        gold = normalize_number(raw)
        assert gold is not None
        for name, template in formats.items():
            out[f"gsm8k-{name}"].append((template.format(body=body, n=raw.strip()), gold))
    return out


def mr_corpora(data: Path) -> dict[str, list[tuple[str, str]]]:
    path = data / "mr-gsm8k" / "original-wrong-solutions.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    full, prose = [], []
    for row in rows:
        steps = row["model_output_steps"]
        hashes = [s for s in steps if "####" in s]
        expected = normalize_number(hashes[-1].split("####")[-1]) if hashes else None
        if expected is None:
            continue
        full.append(("\n".join(steps), expected))
        kept = [s for s in steps if "####" not in s and "answer is" not in s.lower()]
        prose.append(("\n".join(kept), expected))
    return {"mr-gsm8k": full, "mr-gsm8k-prose": prose}


def faithbench_extractor(name: str) -> Extractor:
    extract = EXTRACTORS.get(name)
    return lambda text, expected: numbers_equal(extract(text), expected)


def math_verify_extractor() -> Extractor | None:
    try:
        from math_verify import parse, verify  # type: ignore[import-not-found]
    except ImportError:
        return None

    def agrees(text: str, expected: str) -> bool:
        gold = parse(f"${expected}$", parsing_timeout=None)
        return bool(verify(gold, parse(text, parsing_timeout=None), timeout_seconds=None))

    return agrees


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    args = parser.parse_args()
    corpora = {"regression": REGRESSION, **gsm8k_corpora(args.data), **mr_corpora(args.data)}
    extractors = {name: faithbench_extractor(name) for name in EXTRACTORS.names()}
    if (mv := math_verify_extractor()) is not None:
        mv("warm up", "1")  # imports sympy and compiles its grammar once
        extractors["math-verify"] = mv
    print(f"{'corpus':<18} {'n':>5}  " + "  ".join(f"{name:>22}" for name in extractors))
    for corpus, cases in corpora.items():
        cells = []
        for extract in extractors.values():
            hits, times = 0, []
            for text, expected in cases:
                start = time.perf_counter()
                hits += extract(text, expected)
                times.append(time.perf_counter() - start)
            mean_us, max_ms = 1e6 * sum(times) / len(times), 1e3 * max(times)
            cells.append(f"{hits / len(cases):6.1%} {mean_us:6.0f}us {max_ms:5.1f}ms")
        print(f"{corpus:<18} {len(cases):>5}  " + "  ".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
