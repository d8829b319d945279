"""Entry point of the ``phiward`` command. Each domain's commands live in their own module."""

from __future__ import annotations

import importlib
import logging

import typer

from phiward import __version__
from phiward.audit import hook as audit_hook
from phiward.core.logfilter import install_log_filter
from phiward.core.settings import load_settings
from phiward.errors import ConfigError

app = typer.Typer(
    name="phiward",
    help=(
        "HIPAA technical safeguards for health applications: find PHI, encrypt it, audit every "
        "access, and check the AWS account. Exit codes: 0 ok, 1 PHI found (--fail-on), 2 usage, "
        "3 cloud check failed, 4 error, 5 verification failed."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals may hold PHI or keys
)

_COMMAND_MODULES: tuple[str, ...] = (
    "phiward.cli.scan",
    "phiward.cli.formats",
    "phiward.cli.keys",
    "phiward.cli.audit",
    "phiward.cli.check",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"phiward {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-v info, -vv debug); PHI-scrubbed."
    ),
) -> None:
    """phiward: find, protect and audit PHI."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    install_log_filter()
    _install_audit(ctx)


def _install_audit(ctx: typer.Context) -> None:
    """Record this command's security events in the audit log (``[audit] enabled``, default on).

    The log opens on the first event only, and signs a checkpoint when the command ends.
    """
    if ctx.resilient_parsing or ctx.invoked_subcommand is None:
        return
    try:
        settings = load_settings()
    except ConfigError:
        return  # the command itself reports the bad settings
    hook = audit_hook.install(settings)
    if hook is not None:
        ctx.call_on_close(hook.close)


def _register() -> None:
    for module_name in _COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(app)


_register()


def main() -> None:
    app()
