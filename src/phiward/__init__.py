"""phiward: HIPAA technical safeguards for health applications.

The library is the product; the ``phiward`` CLI is a thin layer over it. Public entry points live in
the domain packages (``phiward.detect``, ``phiward.crypto``, ``phiward.audit``, ...).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
