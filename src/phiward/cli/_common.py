"""Helpers shared by the CLI commands: error mapping, consoles, settings."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from phiward.cli.exitcodes import ExitCode
from phiward.core.logfilter import scrub
from phiward.errors import PhiwardError, VerificationError

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True)


class OutputFormat(StrEnum):
    """Formats shared by commands that print tables of results."""

    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str, code: ExitCode = ExitCode.ERROR) -> typer.Exit:
    """Print an error (scrubbed: messages must never carry PHI) and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {scrub(message)}", highlight=False, markup=True)
    return typer.Exit(int(code))


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Map phiward's own errors to clear messages and exit codes instead of tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except VerificationError as exc:
            raise fail(f"verification failed: {exc}", ExitCode.VERIFICATION_FAILED) from None
        except PhiwardError as exc:
            raise fail(f"{type(exc).__name__}: {exc}") from None
        except KeyboardInterrupt:
            raise fail("interrupted", ExitCode.ERROR) from None
        except BrokenPipeError:
            sys.stderr.close()
            raise typer.Exit(int(ExitCode.OK)) from None

    return wrapper
