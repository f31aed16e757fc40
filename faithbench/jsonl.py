"""Reading JSON Lines input with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faithbench.errors import DataError, where


def parse_line(path: Path, number: int, raw: bytes) -> Any:
    """Line `number` (1-based) of `path` as a JSON value, or a DataError saying what is wrong with it."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{where(path, number)}: not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{where(path, number)}: not valid JSON ({exc.msg}, column {exc.colno})") from None
