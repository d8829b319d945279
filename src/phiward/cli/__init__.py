"""The ``phiward`` command line: thin Typer commands over the domain packages."""
