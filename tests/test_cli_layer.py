"""The command line is the top layer: no library module imports `faithbench.cli`, and building its
parser loads no model or database code (so `faithbench --help` stays fast)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import faithbench

PACKAGE = Path(faithbench.__file__).parent
CLI = PACKAGE / "cli"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path) -> set[str]:
    """Every module `path` imports, relative imports made absolute; `from a import b` names a.b too."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _is_cli(module: str) -> bool:
    return module == "faithbench.cli" or module.startswith("faithbench.cli.")


def test_no_library_module_imports_the_cli() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if CLI not in p.parents]
    assert len(modules) > 50  # the whole library was read
    offenders = {
        str(p.relative_to(PACKAGE.parent)): sorted(m for m in _imported(p) if _is_cli(m))
        for p in modules
        if any(_is_cli(m) for m in _imported(p))
    }
    assert offenders == {}


def test_the_checker_sees_cli_imports() -> None:
    assert any(_is_cli(m) for m in _imported(CLI / "eval.py"))  # `from faithbench.cli.options import ...`
    assert not _is_cli("faithbench.client") and _is_cli("faithbench.cli.options")


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PACKAGE.parent), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=120)


def test_building_the_parser_loads_no_model_or_database_code() -> None:
    code = (
        "import sys\n"
        "import faithbench.cli\n"
        "faithbench.cli.build_parser()\n"
        "heavy = [m for m in ('sqlalchemy', 'torch', 'transformers', 'trl') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = _python("-c", code)
    assert done.returncode == 0, done.stderr


def test_python_m_faithbench_cli_is_the_command() -> None:
    done = _python("-m", "faithbench.cli", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: faithbench") and "judge-check" in done.stdout


def test_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    done = _python("-m", "faithbench.cli", "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"faithbench {version('faithbench')}"
