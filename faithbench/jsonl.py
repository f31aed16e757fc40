"""Reading JSON Lines input with errors that name the file and line: one bounded reader for every
JSONL file faithbench reads (predictions, a run's samples, data sets, imported logs).

Bounded: a line longer than the caller's limit is refused after reading at most that many bytes;
nesting deeper than `MAX_DEPTH`, an integer longer than `MAX_INT_DIGITS` digits and a string holding
a lone UTF-16 surrogate (`"\\ud800"`, which cannot be written back as UTF-8) are refused with the
file, line and field, before any of it reaches a model, a record or a run directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faithbench.errors import DataError, where

# One line of a file someone else wrote (predictions, a data set, an imported log). No model writes a
# rationale of millions of characters; a bigger line is refused before it is decoded.
MAX_LINE_BYTES = 16 * 2**20
# Arrays and objects inside one another; a sample record nests 5 deep.
MAX_DEPTH = 64
# Digits of one integer (Python's own limit for converting text to int is 4,300).
MAX_INT_DIGITS = 1_000


class _Refused(Exception):
    """Raised inside the JSON decoder's hooks; becomes a DataError with the file and line."""


def read_lines(path: Path, max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes, bool]]:
    """(1-based number, line without its newline, whether the line ended with a newline) for each line
    of `path`, blank ones included. Never holds more than `max_bytes` + 1 bytes of one line: a longer
    line is a DataError naming it."""
    with path.open("rb") as handle:
        number = 0
        while True:
            raw = handle.readline(max_bytes + 2)
            if not raw:
                return
            number += 1
            ended = raw.endswith(b"\n")
            line = raw[:-1] if ended else raw
            if len(line) > max_bytes:
                raise DataError(
                    f"{where(path, number)}: line longer than {_size(max_bytes)}, the limit for one line "
                    "(see docs/hardening.md)"
                )
            yield number, line, ended


def parse_line(path: Path, number: int, raw: bytes) -> Any:
    """Line `number` (1-based) of `path` as a JSON value, or a DataError saying what is wrong with it."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_int=_int)
    except UnicodeDecodeError as exc:
        raise DataError(f"{where(path, number)}: not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{where(path, number)}: not valid JSON ({exc.msg}, column {exc.colno})") from None
    except RecursionError:
        raise DataError(f"{where(path, number)}: nested deeper than {MAX_DEPTH} levels") from None
    except _Refused as exc:
        raise DataError(f"{where(path, number)}: {exc}") from None
    _check(path, number, value)
    return value


def _int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _Refused(f"a number with {digits:,} digits (at most {MAX_INT_DIGITS:,} are read)")
    return int(text)


def _check(path: Path, number: int, value: Any) -> None:
    """Depth and lone surrogates, walked without recursion; the field named is the path of keys."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        node, field, depth = stack.pop()
        if isinstance(node, str):
            _check_text(path, number, field, node)
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise DataError(f"{where(path, number)}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for key, item in node.items():
                name = f"{field}.{key}" if field else key
                _check_text(path, number, field or "(key)", key)
                stack.append((item, name, depth + 1))
        else:
            stack.extend((item, f"{field}[{i}]", depth + 1) for i, item in enumerate(node))


def _check_text(path: Path, number: int, field: str, text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DataError(
            f"{where(path, number, field or None)}: a lone surrogate (\\u{ord(text[exc.start]):04x}) at "
            f"character {exc.start}: not text that can be stored"
        ) from None


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 and n % 2**20 == 0 else f"{n:,} bytes"
