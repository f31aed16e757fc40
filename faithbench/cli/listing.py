"""`faithbench metrics list` and `faithbench tasks list`."""

from __future__ import annotations

import argparse
from typing import Any

from faithbench.cli.options import Subparsers
from faithbench.registry import Registry


def add_commands(subparsers: Subparsers) -> None:
    """`metrics list` and `tasks list`."""
    for noun, func, text in (
        ("metrics", _metrics_list, "registered metrics"),
        ("tasks", _tasks_list, "tasks"),
    ):
        group = subparsers.add_parser(noun, help=f"list {text}")
        sub = group.add_subparsers(metavar="list")
        sub.add_parser("list", help=f"list {text} with a one-line description").set_defaults(func=func)


def _metrics_list(args: argparse.Namespace) -> int:
    from faithbench.specs import METRIC_SPECS  # every kind: rule, judge, intervention

    return _print_described(METRIC_SPECS)


def _tasks_list(args: argparse.Namespace) -> int:
    from faithbench.tasks.registry import TASKS

    return _print_described(TASKS)


def _print_described(registry: Registry[Any]) -> int:
    """Every name in a registry with its one-line description, aligned."""
    names = registry.names()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name.ljust(width)}  {registry.get(name).description}")
    return 0
