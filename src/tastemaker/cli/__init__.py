"""The ``tastemaker`` command line. Entry points only translate: the work lives in
the packages they call. Every user error ends as one line on stderr and exit code 2."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from tastemaker.errors import TastemakerError

app = typer.Typer(
    name="tastemaker",
    help="An open engine for community-trained taste models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"tastemaker {version('tastemaker')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """An open engine for community-trained taste models."""


def _register() -> None:
    # Each command group lives in its own module and registers itself on ``app``.
    from tastemaker.cli import chain, demo, generate, media, rounds, taste, web  # noqa: F401


def main() -> None:
    _register()
    try:
        app()
    except TastemakerError as exc:
        # escape: a message may hold brackets (pip install 'tastemaker[ray]'), not markup
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(2)
    except ValueError as exc:
        # A setting from the environment that does not parse (pydantic-settings raises
        # SettingsError or ValidationError, both ValueErrors): one line naming it.
        if type(exc).__module__.split(".")[0] not in (
            "pydantic",
            "pydantic_core",
            "pydantic_settings",
        ):
            raise
        first = str(exc).strip().splitlines()
        err_console.print(
            f"[bold red]error:[/] bad setting: {' '.join(first[:3])}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
    except Exception as exc:
        # The store failing under a command (a file damaged while we run, a full disk):
        # one line, not a traceback. Anything else is a bug and keeps its traceback.
        sa_exc = sys.modules.get("sqlalchemy.exc")
        if sa_exc is None or not isinstance(exc, sa_exc.DatabaseError):
            raise
        detail = getattr(exc, "orig", None) or exc
        err_console.print(
            f"[bold red]error:[/] the database failed: {detail}", highlight=False, soft_wrap=True
        )
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
