"""Cut a rationale into the steps a reader sees: its lines, a line of several sentences split into
sentences. Step numbers shown to users and stored on disk are 1-based positions in this tuple."""

from __future__ import annotations

import re

UNIT_ABBREVIATIONS = frozenset(
    {"lb", "lbs", "oz", "ft", "in", "yd", "yds", "mi", "hr", "hrs", "min", "mins", "sec", "secs"}
    | {"qt", "qts", "pt", "pts", "gal", "gals", "tbsp", "tsp", "sq", "cu"}
)
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "eg", "ie"})
_SENTENCE_END_RE = re.compile(r"[.!?]+[\"'”’)\]]*\s+")
_LIST_MARKER_RE = re.compile(
    r"^\s*(?:[-*•]\s*)?(?:\**\s*step\s*)?(?:\(?\d{1,3}|[A-Za-z]|[ivxIVX]{1,4})[.)]\s*$", re.IGNORECASE
)


def split_steps(rationale: str) -> tuple[str, ...]:
    """The rationale's steps: its non-empty lines, a line of several sentences split into sentences.

    A sentence ends at `.`, `!` or `?` followed by white space, so decimals (`3.5`, `$2.50`) never
    split; neither do list markers (`1. Janet ...`), initials and a few abbreviations (`Mr.`, `e.g.`).
    Lines without a letter or digit (`---`, code fences) are dropped. Text is kept as written, list
    markers and GSM8K calculator annotations included.
    """
    steps: list[str] = []
    for raw_line in rationale.splitlines():
        line = raw_line.strip()
        if any(c.isalnum() for c in line):
            steps.extend(_split_sentences(line))
    return tuple(steps)


def _split_sentences(line: str) -> list[str]:
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
