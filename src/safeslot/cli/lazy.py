"""Command groups loaded when they run: click's LazyGroup pattern, under Typer.

`safeslot --help` lists every group from a name and a line of help; a group's module (and what it
imports: the database layer, the web stack, a domain) is imported only when that group is run, by
a loader function with an ordinary ``import`` in its body, so the type checker still sees each
group's wiring (docs/decisions.md, "A command imports only what it runs").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import typer
from typer import _click as click  # typer's own copy of click (typer.core's types); `import click` is another
from typer.core import TyperCommand, TyperGroup

Loader = Callable[[], typer.Typer]


class Pending(TyperCommand):
    """A group not loaded yet: its name and help, for the listing of `safeslot --help`."""


class LazyGroup(TyperGroup):
    """A Typer group whose sub-groups in ``lazy`` (name: (help, loader)) load on first use.

    Listing the commands (the help page) shows each pending group's help without loading it;
    resolving one to run it, or to show its own help, loads it and keeps it.
    """

    lazy: ClassVar[Mapping[str, tuple[str, Loader]]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._listing = False
        for name, (help_text, _) in self.lazy.items():
            self.commands.setdefault(name, Pending(name, help=help_text))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if isinstance(command, Pending) and not self._listing:
            command = self.commands[cmd_name] = load(cmd_name, self.lazy[cmd_name][1])
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def load(name: str, loader: Loader) -> click.Command:
    """The click group of a sub-Typer, as `add_typer` would have made it (without completion options)."""
    group = typer.main.get_group(loader())
    group.name = name
    return group
