"""The exception tree of phiward.

Every error phiward raises on purpose derives from :class:`PhiwardError`, so callers (and the CLI)
can tell "phiward refused something" from a bug. Messages never carry raw PHI: they name *what* was
wrong (a file, a column, a key id), never the sensitive value itself.

    PhiwardError
    ├── ConfigError              settings file or environment is invalid
    ├── InputError               a file, stream or argument could not be used
    ├── CryptoError
    │   ├── DecryptionError      opaque: tampered, truncated, wrong key or wrong context
    │   ├── KeyNotFoundError     the named key does not exist (or was shredded)
    │   └── KeyProviderError
    │       └── KeyProviderUnavailable   the KMS or key store could not be reached / refused
    ├── AuditError
    │   └── VerificationError    a proof, signature or log did not verify
    └── CheckError               a cloud check could not run (permission, API missing)

Caller mistakes (wrong types, impossible arguments) raise ``TypeError``/``ValueError`` as usual.
Library code never calls ``sys.exit``; only the CLI maps errors to exit codes.
"""

from __future__ import annotations


class PhiwardError(Exception):
    """Root of every error phiward raises on purpose."""


class ConfigError(PhiwardError):
    """The settings file or a ``PHIWARD_*`` environment variable is invalid."""


class InputError(PhiwardError):
    """An input (file, stream, argument value) could not be used."""


class CryptoError(PhiwardError):
    """Base of encryption and key-management errors."""


class DecryptionError(CryptoError):
    """Ciphertext could not be authenticated or decrypted.

    Deliberately opaque for untrusted input: a tampered byte, a truncated stream, a wrong key and a
    wrong context look the same to the caller (pyca's ``InvalidToken`` discipline). The ``reason``
    attribute carries a coarse, non-secret category for operators and the CLI.
    """

    def __init__(self, message: str = "decryption failed", *, reason: str = "invalid") -> None:
        super().__init__(message)
        self.reason = reason


class KeyNotFoundError(CryptoError):
    """The named key does not exist, was never created, or was crypto-shredded."""


class KeyProviderError(CryptoError):
    """A key provider (local key store, AWS KMS) refused or failed an operation."""


class KeyProviderUnavailable(KeyProviderError):
    """The key provider could not be reached, or denied the call (e.g. missing KMS permission)."""


class AuditError(PhiwardError):
    """Base of audit-log errors."""


class VerificationError(AuditError):
    """A Merkle proof, signed tree head, checkpoint or exported log did not verify."""


class CheckError(PhiwardError):
    """A cloud configuration check could not be evaluated."""
