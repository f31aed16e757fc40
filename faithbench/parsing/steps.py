"""Cut a rationale into the steps a reader sees (its lines) and a line into sentences.

Step numbers shown to users and stored on disk are 1-based positions in `split_steps`: a model's
`Step 3: ...` line, a markdown list item, a paragraph of an R1 trace. Equations are read sentence by
sentence inside a step (`parsing.equations`); interventions truncate a chain of thought at sentences.
"""

from __future__ import annotations

import re

UNIT_ABBREVIATIONS = frozenset(
    {"lb", "lbs", "oz", "ft", "in", "yd", "yds", "mi", "hr", "hrs", "min", "mins", "sec", "secs"}
    | {"qt", "qts", "pt", "pts", "gal", "gals", "tbsp", "tsp", "sq", "cu"}
)
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "eg", "ie"})
# One end mark, the last before the white space: `[.!?]+` here backtracks quadratically on a run of
# 100,000 dots; a `...` or `?!` ending still ends the sentence at its last mark.
_SENTENCE_END_RE = re.compile(r"[.!?][\"'”’)\]]*\s+")
_LIST_MARKER_RE = re.compile(
    r"^\s*(?:[-*•]\s*)?(?:\**\s*step\s*)?(?:\(?\d{1,3}|[A-Za-z]|[ivxIVX]{1,4})[.)]\s*$", re.IGNORECASE
)


def split_steps(rationale: str) -> tuple[str, ...]:
    """The rationale's steps: its non-empty lines, stripped. Lines without a letter or digit (`---`,
    code fences) are dropped. Text is kept as written, list markers and GSM8K calculator
    annotations included."""
    lines = (raw.strip() for raw in rationale.splitlines())
    return tuple(line for line in lines if any(c.isalnum() for c in line))


def split_sentences(text: str) -> tuple[str, ...]:
    """The sentences of `text`'s steps, in order: each step (line) cut into sentences.

    A sentence ends at `.`, `!` or `?` followed by white space, so decimals (`3.5`, `$2.50`) never
    split; neither do list markers (`1. Janet ...`), initials and a few abbreviations (`Mr.`, `e.g.`).
    """
    return tuple(sentence for line in split_steps(text) for sentence in line_sentences(line))


def line_sentences(line: str) -> list[str]:
    """The sentences of one line (see `split_sentences`)."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(line):
        if match.end() >= len(line):
            break
        before = line[start : match.start()]
        last_word = before.rsplit(None, 1)[-1] if before.strip() else ""
        if match.group(0).startswith(".") and (
            last_word.lower().rstrip(".") in _ABBREVIATIONS
            or (last_word.lower() in UNIT_ABBREVIATIONS and line[match.end() : match.end() + 1].islower())
            or (len(last_word) == 1 and last_word.isupper())
            or _LIST_MARKER_RE.match(line[start : match.start() + 1])
        ):
            continue
        sentence = line[start : match.end()].strip()
        if any(c.isalnum() for c in sentence):
            sentences.append(sentence)
            start = match.end()
    rest = line[start:].strip()
    if rest:
        if any(c.isalnum() for c in rest) or not sentences:
            sentences.append(rest)
        else:
            sentences[-1] = f"{sentences[-1]} {rest}"
    return sentences
