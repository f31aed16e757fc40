"""Text from outside (a model, a server, a file) on its way to a sink: secrets out, terminal controls out.

`redact` removes every credential faithbench knows of, in every spelling it takes in text: as
written, JSON-escaped character by character (`sk\\u002dtest`, once or twice escaped), URL-encoded
(`sk%2Dtest`), as an HTML character reference, after `Bearer `, as a `key=`/`token=` URL query
value and as the password of a URL. Known credentials are the values of the environment's key and
token variables (`*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*PASSWORD*`) and those handed to
`add_secret` (an API key given in code). Every sink applies it: run files (`RunDir`), the
response cache, error reasons, warnings, the results database and the reports read from those.

`for_terminal` makes server or model text safe to print on one line: escape sequences (colours,
window titles, screen clears), other control characters and bidirectional overrides are removed.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "<redacted>"
# Shorter values are not treated as secrets: redacting `EMPTY` or `1` would mangle ordinary text.
MIN_SECRET_CHARS = 8
_SECRET_VARIABLE_RE = re.compile(r"(?:API_?KEY|_TOKEN|_SECRET|PASSWORD|PASSWD)$|^OPENAI_|^DEEPSEEK_", re.I)
_NOT_SECRET_VARIABLES = frozenset({"OPENAI_BASE_URL", "DEEPSEEK_BASE_URL"})

_added: set[str] = set()

# Credentials whatever their value: an Authorization header echoed back, a key in a URL's query or
# user-info, an OpenAI-style key.
_GENERIC = (
    (re.compile(r"(\bBearer\s+)(?!<redacted>)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + REDACTED),
    (
        re.compile(
            r"((?:[?&;]|%3F|%26)(?:api[_-]?key|apikey|key|access[_-]?token|token|auth|password|secret|sig)"
            r"(?:=|%3D)|\bapi[_-]?key(?:=|%3D))(?!<redacted>)[^&#\s\"'<>\\]+",
            re.I,
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@\"'<>]*:)[^@/\s\"'<>]+@", re.I), r"\1" + REDACTED + "@"),
    (re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}"), REDACTED),
)

_PERCENT_RE = re.compile(r"%[0-9a-fA-F]{2}")
# Substrings (lower case) without which each generic pattern cannot match.
_NEEDLES = (
    ("bearer",),
    tuple(
        f"{name}{eq}" for name in ("key", "token", "auth", "password", "secret", "sig") for eq in ("=", "%3d")
    ),
    ("://",),
    ("sk-",),
)


def add_secret(value: str | None) -> None:
    """Make `value` (an API key given in code, not through the environment) known to `redact`."""
    if value and len(value) >= MIN_SECRET_CHARS:
        _added.add(value)


def known_secrets() -> frozenset[str]:
    """The credentials `redact` removes by value: the added ones and the environment's."""
    found = {
        value
        for name, value in os.environ.items()
        if _SECRET_VARIABLE_RE.search(name) and name not in _NOT_SECRET_VARIABLES
    }
    return frozenset(v for v in found | _added if len(v) >= MIN_SECRET_CHARS)


def redact(text: str, secrets: Iterable[str] | None = None) -> str:
    """`text` without any credential in any spelling (see the module docstring). Each pattern runs
    only where a plain substring test says it may match, so clean text costs a few scans at C speed."""
    if not text:
        return text
    found = frozenset(known_secrets() if secrets is None else secrets)
    lower = text.lower()
    escaped = "\\u" in lower or "\\/" in text or "&#" in text or _PERCENT_RE.search(text) is not None
    pattern = _value_pattern(found)
    if pattern is not None and (escaped or any(s.lower() in lower for s in found)):
        text = pattern.sub(REDACTED, text)
    for (generic, replacement), needles in zip(_GENERIC, _NEEDLES, strict=True):
        if any(n in lower for n in needles):
            text = generic.sub(replacement, text)
    return text


def has_secret(text: str, secrets: Iterable[str] | None = None) -> bool:
    """Whether `redact` would change `text`."""
    return redact(text, secrets) != text


def redact_data(value: Any, secrets: Iterable[str] | None = None) -> Any:
    """`value` (JSON-like: dicts, lists, strings, numbers) with `redact` applied to every string,
    keys included."""
    found = frozenset(known_secrets() if secrets is None else secrets)
    if isinstance(value, str):
        return redact(value, found)
    if isinstance(value, dict):
        return {redact_data(k, found): redact_data(v, found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_data(v, found) for v in value]
    return value


@functools.lru_cache(maxsize=64)
def _value_pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    """One pattern matching every listed secret with each character in any of its spellings."""
    if not secrets:
        return None
    # longest first: a secret that contains another is removed whole
    alternatives = [_spelled(s) for s in sorted(secrets, key=len, reverse=True)]
    return re.compile("|".join(alternatives), re.I)


def _spelled(secret: str) -> str:
    return "".join(_char(c) for c in secret)


def _char(c: str) -> str:
    code = ord(c)
    forms = [re.escape(c), rf"\\+u{code:04x}", rf"&#0*{code};", rf"&#x0*{code:x};"]
    if code < 0x80:
        forms.append(f"%{code:02x}")
        if c == "/":
            forms.append(r"\\+/")
        if c == " ":
            forms.append(r"\+")
    else:
        forms.append("".join(f"%{b:02x}" for b in c.encode("utf-8")))
    return "(?:" + "|".join(forms) + ")"


# --- terminal -------------------------------------------------------------------------------------

_ESCAPE_RE = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks
    r"|\x1b[P^_X][^\x1b]*(?:\x1b\\)?"  # DCS, PM, APC, SOS strings
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI: colours, cursor moves, screen clears
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # the same introduced by the 8-bit CSI
    r"|\x1b[ -/]*[0-~]?"  # any other escape
)
# other C0 and C1 controls (tab kept), DEL, and the bidirectional overrides that reorder what is shown
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: str) -> str:
    """`text` (from a server or a model) fit to print on one line: escape sequences removed, other
    control characters (newlines included) shown as a space, secrets redacted."""
    text = _ESCAPE_RE.sub("", text)
    return redact(_CONTROL_RE.sub(" ", text))
