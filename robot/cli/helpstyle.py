"""Help text as people read it: `Usage: jobber-robot doctor [OPTIONS] MERCHANT` and flags without a
type label.

Typer's own command class prints a required argument as `{merchant}` in the usage line and a
flag's type as `<bool>` in the options panel; neither is how a command line is written. Every
command of the CLI gets `HelpCommand` (`use_click_style_help(app)`, called once when the app is
built), which prints arguments as click does (MERCHANT, [CODE], FILES...) and no type for a flag.
(Typer carries its own copy of click, so parameters are told apart by `param_type_name`.)
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.models import DefaultPlaceholder


class _Flags:
    """A flag takes no value: nothing to show in the type column (every parameter, including the
    ones Typer and click add after the command is built: --help, --install-completion)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if param.param_type_name == "option" and getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


class HelpGroup(_Flags, TyperGroup):
    pass


class HelpCommand(_Flags, TyperCommand):
    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "").upper()
                name = name if param.required else f"[{name}]"
                pieces.append(name + ("..." if param.nargs != 1 else ""))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


def _default(cls: Any, typer_default: type) -> bool:
    """Left as Typer's default (None, Typer's own class, or its placeholder for "not given")."""
    return cls is None or cls is typer_default or isinstance(cls, DefaultPlaceholder)


def use_click_style_help(app: typer.Typer) -> None:
    """Give every command of `app` and of its sub-apps the HelpCommand class (groups: HelpGroup)."""
    if _default(app.info.cls, TyperGroup):
        app.info.cls = HelpGroup
    for info in app.registered_commands:
        if _default(info.cls, TyperCommand):
            info.cls = HelpCommand
    for group in app.registered_groups:
        if _default(group.cls, TyperGroup):
            group.cls = HelpGroup
        if group.typer_instance is not None:
            use_click_style_help(group.typer_instance)
