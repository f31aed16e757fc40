"""Errors a user can act on. The CLI prints them as one line and exits 2, without a traceback."""


class FaithbenchError(Exception):
    """Bad input or configuration: the message names the file, line and field where there is one."""


class DataError(FaithbenchError):
    """A data or predictions file that cannot be used as it is."""


def where(path: object, line: int | None = None, field: str | None = None) -> str:
    """`file:line: field 'x':` prefix for error messages (1-based lines, as editors count)."""
    text = str(path)
    if line is not None:
        text += f":{line}"
    if field is not None:
        text += f": field {field!r}"
    return text
