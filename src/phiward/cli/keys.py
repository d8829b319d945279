"""``phiward keys``, ``phiward encrypt`` and ``phiward decrypt`` (issue 3)."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from phiward.cli._common import err_console, fail, guarded
from phiward.cli.exitcodes import ExitCode
from phiward.core.logfilter import scrub
from phiward.core.settings import load_settings
from phiward.crypto import (
    KeyProvider,
    KeyTable,
    KmsKeyProvider,
    LocalKeyStore,
    MessageInfo,
    Suite,
    decrypt_file,
    default_key_table_url,
    encrypt_file,
    is_kms_key_ref,
    keyring_for,
    rewrap_keys,
    shred_subject,
)
from phiward.crypto._local import KDFS, MASTER_KEY_ENV, PASSPHRASE_ENV
from phiward.crypto._util import parse_context_arg
from phiward.errors import (
    ConfigError,
    DecryptionError,
    KeyNotFoundError,
    KeyProviderUnavailable,
)

P = ParamSpec("P")
R = TypeVar("R")


class OutputFormat(StrEnum):
    """What these commands print: a human summary, or JSON for machines."""

    table = "table"
    json = "json"


class KdfChoice(StrEnum):
    """Passphrase KDFs for a new local key store."""

    argon2id = "argon2id"
    scrypt = "scrypt"


keys_app = typer.Typer(
    help="Manage master keys (local key store or AWS KMS) and the data-key table.",
    no_args_is_help=True,
)

_REASONS = {
    "wrong-key": "wrong key: the input was not encrypted for this key",
    "wrong-key-or-context": "wrong key or context: the data key does not unwrap with this key "
    "and encryption context",
    "wrong-context": "wrong context: the encryption context does not match --context",
    "truncated": "truncated input: the message ends early",
    "tampered": "corrupted or tampered input",
    "bad-signature": "corrupted or tampered input: the signature does not verify",
    "corrupted": "corrupted input",
    "unsupported": "unsupported input",
    "limit": "input exceeds a safety limit",
}


def _crypto_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Distinct, clear errors for the crypto failure modes (then the shared mapping)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DecryptionError as exc:
            head = _REASONS.get(exc.reason, "decryption failed")
            code = (
                ExitCode.VERIFICATION_FAILED
                if exc.reason in {"tampered", "bad-signature", "truncated", "corrupted"}
                else ExitCode.ERROR
            )
            raise fail(f"{head} ({exc})", code) from None
        except KeyProviderUnavailable as exc:
            raise fail(f"key provider unavailable or permission denied: {exc}") from None
        except KeyNotFoundError as exc:
            raise fail(f"key not found: {exc}") from None

    return guarded(wrapper)


def _open_store(*, creating: bool = False, kdf: str | None = None) -> LocalKeyStore:
    """Open the local key store. ``kdf`` (``--kdf``) picks the passphrase KDF of a store about to
    be created; naming a KDF that an existing store does not use is an error, not a silent no-op."""
    settings = load_settings()
    if os.environ.get(MASTER_KEY_ENV) or os.environ.get(PASSPHRASE_ENV):
        store = LocalKeyStore.open(settings.home, kdf=kdf or KDFS[0])
    elif not sys.stdin.isatty():
        raise ConfigError(
            f"the local key store needs {MASTER_KEY_ENV} (32-byte hex/base64 key) or "
            f"{PASSPHRASE_ENV}; no terminal to prompt for a passphrase"
        )
    else:
        passphrase = typer.prompt(
            "Key store passphrase", hide_input=True, confirmation_prompt=creating
        )
        store = LocalKeyStore.open(settings.home, passphrase=passphrase, kdf=kdf or KDFS[0])
    if kdf is not None and store.kdf_name != kdf:
        if store.kdf_name == "master-key-hkdf-sha256":
            raise ConfigError(
                f"--kdf applies to passphrase-protected key stores; this one is unlocked by "
                f"{MASTER_KEY_ENV}"
            )
        raise ConfigError(
            f"the key store {store.path} already uses {store.kdf_name}; --kdf only applies when "
            "a new key store is created"
        )
    return store


def _key_table(db: str | None) -> KeyTable:
    url = db or load_settings().section("crypto").get("key_table_url") or default_key_table_url()
    return KeyTable(str(url))


def _provider_for(ref: str) -> KeyProvider:
    return KmsKeyProvider() if is_kms_key_ref(ref) else _open_store()


def _emit_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, sort_keys=True))


FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format: table or json.")
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy URL of the data-key table (default: settings crypto.key_table_url, "
        "else sqlite under PHIWARD_HOME).",
    ),
]


@keys_app.command("create")
@_crypto_errors
def keys_create(  # noqa: PLR0917 - one parameter per CLI option
    name: Annotated[str, typer.Argument(help="Local key name, or a KMS alias with --kms.")],
    kms: Annotated[
        bool, typer.Option("--kms", help="Create an AWS KMS key (NAME becomes its alias).")
    ] = False,
    multi_region: Annotated[
        bool, typer.Option("--multi-region", help="With --kms: a multi-region (mrk-) key.")
    ] = False,
    replica_regions: Annotated[
        list[str] | None,
        typer.Option(
            "--replica-region",
            help="With --kms --multi-region: replicate the key into this region (repeatable); "
            "each replica gets the same alias there.",
        ),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="Local keys: aes-256 (wraps data keys) or hmac-sha256 (blind indexes)."
        ),
    ] = "aes-256",
    kdf: Annotated[
        KdfChoice | None,
        typer.Option(
            "--kdf",
            help="Passphrase KDF when this creates the local key store: argon2id (default, "
            "RFC 9106 t=3 p=4 m=64 MiB) or scrypt (N=2^17 r=8 p=1).",
        ),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Create a master key. Prints its id and version, never its material."""
    if kms and kdf is not None:
        raise fail("--kdf applies to the local key store, not to --kms keys", ExitCode.USAGE)
    if replica_regions and not (kms and multi_region):
        raise fail("--replica-region needs --kms --multi-region", ExitCode.USAGE)
    if kms:
        alias = name if name.startswith("alias/") else f"alias/{name}"
        info = KmsKeyProvider().create_key(
            alias, multi_region=multi_region, replica_regions=replica_regions or ()
        )
    else:
        try:
            store = _open_store(creating=True, kdf=kdf.value if kdf is not None else None)
            info = store.create_key(name, kind=kind)
        except ValueError as exc:
            raise fail(str(exc), ExitCode.USAGE) from None
    if fmt is OutputFormat.json:
        _emit_json(
            {
                "key_id": info.key_id,
                "provider": info.provider,
                "version": info.current_version,
                "kind": info.kind,
                "replicas": list(info.replicas),
            }
        )
    else:
        typer.echo(f"created {info.provider} key {info.key_id} ({info.current_version})")
        for replica in info.replicas:
            typer.echo(f"replicated to {replica}")


@keys_app.command("replicate")
@_crypto_errors
def keys_replicate(
    key: Annotated[str, typer.Argument(help="Multi-region KMS key: mrk- id, alias or ARN.")],
    region: Annotated[str, typer.Option("--region", help="Region to replicate it into.")],
    alias: Annotated[
        str | None, typer.Option("--alias", help="Alias to create for the replica there.")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Replicate a multi-region AWS KMS key into another region (ReplicateKey)."""
    if not is_kms_key_ref(key):
        raise fail(f"{key!r} is not an AWS KMS key reference", ExitCode.USAGE)
    replica = KmsKeyProvider().replicate_key(key, region, alias=alias)
    if fmt is OutputFormat.json:
        _emit_json({"replica": replica, "region": region})
    else:
        typer.echo(f"replicated to {replica}")


@keys_app.command("list")
@_crypto_errors
def keys_list(
    db: DbOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """List local master keys and how many data keys each version still wraps."""
    store = _open_store()
    counts = _key_table(db).count_by_master()
    rows: list[dict[str, Any]] = []
    for info in store.list_keys():
        per_version = {v: n for p, k, v, n in counts if p == "local" and k == info.key_id}
        rows.append(
            {
                "key_id": info.key_id,
                "provider": "local",
                "kind": info.kind,
                "current_version": info.current_version,
                "versions": list(info.versions),
                "created": info.created,
                "data_keys": per_version,
                "stale_data_keys": sum(
                    n for v, n in per_version.items() if v != info.current_version
                ),
            }
        )
    for p, k, v, n in counts:
        if p != "local":
            rows.append(
                {
                    "key_id": k,
                    "provider": p,
                    "kind": "aes-256",
                    "current_version": v,
                    "versions": [v],
                    "created": None,
                    "data_keys": {v: n},
                    "stale_data_keys": 0,
                }
            )
    if fmt is OutputFormat.json:
        _emit_json(rows)
        return
    table = Table("key", "provider", "kind", "current", "versions", "data keys", "stale")
    for r in rows:
        table.add_row(
            r["key_id"],
            r["provider"],
            r["kind"],
            r["current_version"],
            ",".join(r["versions"]),
            str(sum(r["data_keys"].values())),
            str(r["stale_data_keys"]),
        )
    Console().print(table)


@keys_app.command("rotate")
@_crypto_errors
def keys_rotate(
    key: Annotated[str, typer.Argument(help="Local key name, or KMS key id/alias/ARN.")],
    to: Annotated[
        str | None,
        typer.Option("--to", help="KMS only: point the alias KEY at this other KMS key."),
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Rotate a master key: a new version becomes current; old data still decrypts.
    Run `phiward keys rewrap` afterwards to move data keys to the new version."""
    if is_kms_key_ref(key):
        info = KmsKeyProvider().rotate(key, new_key_id=to)
    else:
        if to:
            raise fail("--to applies to KMS aliases only", ExitCode.USAGE)
        info = _open_store().rotate(key)
    if fmt is OutputFormat.json:
        _emit_json(
            {
                "key_id": info.key_id,
                "current_version": info.current_version,
                "versions": list(info.versions),
            }
        )
    else:
        typer.echo(f"rotated {info.key_id}: current version {info.current_version}")


@keys_app.command("rewrap")
@_crypto_errors
def keys_rewrap(
    key: Annotated[str, typer.Argument(help="Master key whose data keys to re-wrap.")],
    to: Annotated[
        str | None, typer.Option("--to", help="Re-wrap under this other master key instead.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Data keys per transaction.")
    ] = 500,
    db: DbOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Re-wrap data keys under the current master version in batches (no data is touched).
    Safe to interrupt: running it again resumes where it stopped."""
    provider = _provider_for(key)
    table = _key_table(db)
    quiet = fmt is OutputFormat.json

    def progress(done: int, batch: int) -> None:
        if not quiet:
            err_console.print(f"re-wrapped {done} data keys", highlight=False)

    report = rewrap_keys(
        table, provider, key, new_master_key_id=to, batch_size=batch_size, progress=progress
    )
    if quiet:
        _emit_json(
            {
                "master_key_id": report.master_key_id,
                "target": report.target_key_id,
                "version": report.target_version,
                "rewrapped": report.rewrapped,
                "batches": report.batches,
                "remaining": report.remaining,
                "stale": [list(s) for s in report.stale],
                "failed": report.failed,
            }
        )
    else:
        typer.echo(
            f"re-wrapped {report.rewrapped} data keys under {report.target_key_id} "
            f"{report.target_version}; {report.remaining} still under an old version"
        )
        for _, k, v, n in report.stale:
            typer.echo(f"  still stale: {k} {v}: {n} data keys")
    if report.failed:
        raise fail(
            f"{len(report.failed)} data keys could not be re-wrapped (damaged or wrapped under "
            f"another key): {', '.join(report.failed[:10])}"
            + (" ..." if len(report.failed) > 10 else "")
        )


@keys_app.command("shred")
@_crypto_errors
def keys_shred(
    subject: Annotated[str, typer.Option("--subject", help="Opaque subject id to shred.")],
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant of the subject.")] = "default",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    db: DbOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Crypto-shred a subject: erase their data keys so their encrypted data is unrecoverable.
    Irreversible. Needs no master key. Database backups of the key table keep the wrapped keys
    until they expire."""
    if not yes:
        if not sys.stdin.isatty():
            raise fail("shredding is irreversible: pass --yes to confirm", ExitCode.USAGE)
        typer.confirm(f"Irreversibly shred all data keys of subject {subject!r}?", abort=True)
    n = len(shred_subject(_key_table(db), subject, tenant=tenant))
    if fmt is OutputFormat.json:
        _emit_json({"subject": subject, "tenant": tenant, "shredded_data_keys": n})
    else:
        typer.echo(f"shredded {n} data keys of subject {subject}")


def _io_paths(
    src: Path | None, output: Path | None, *, binary_out: bool
) -> tuple[Path | None, Path | None]:
    src = None if src is None or str(src) == "-" else src
    out = None if output is None or str(output) == "-" else output
    if out is None and binary_out and sys.stdout.isatty():
        raise fail(
            "refusing to write binary output to a terminal: use --output FILE or a pipe",
            ExitCode.USAGE,
        )
    if src is not None and out is not None and src.resolve() == out.resolve():
        raise fail("input and output are the same file", ExitCode.USAGE)
    return src, out


def _report(info: MessageInfo, fmt: OutputFormat, verb: str, out: Path | None) -> None:
    if fmt is OutputFormat.json:
        payload = {
            "message_id": info.message_id,
            "suite": f"0x{int(info.suite):04X}",
            "bytes": info.plaintext_length,
            "frames": info.frames,
            "signed": info.signed,
            "key_providers": info.key_providers,
        }
        err_console.print_json(json.dumps(payload)) if out is None else _emit_json(payload)
    elif out is not None:
        typer.echo(f"{verb} {info.plaintext_length} bytes -> {out}")


InputArg = Annotated[
    Path | None, typer.Argument(help="Input file ('-' or omitted: stdin).", show_default=False)
]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Output file ('-' or omitted: stdout). Written atomically: temp file, fsync, rename.",
    ),
]
KeyOpt = Annotated[
    str,
    typer.Option("--key", "-k", help="Local key name, or AWS KMS key id/alias/ARN."),
]
ContextOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--context",
        "-c",
        help="Encryption context key=value (repeatable). Stored "
        "in clear in the header: opaque ids only, never PHI.",
    ),
]


@_crypto_errors
def encrypt_cmd(  # noqa: PLR0917 - Typer maps parameters to options
    src: InputArg = None,
    output: OutputOpt = None,
    key: KeyOpt = ...,  # type: ignore[assignment]
    context: ContextOpt = None,
    signed: Annotated[
        bool, typer.Option("--signed", help="Use suite 0x0578 (adds an ECDSA P-384 signature).")
    ] = False,
    frame_length: Annotated[
        int, typer.Option("--frame-length", min=1, max=64 * 1024 * 1024, help="Frame size.")
    ] = 64 * 1024,
    allow_identifiers: Annotated[
        bool,
        typer.Option(
            "--allow-identifier-context",
            help="Accept --context values that look like identifiers (SSN, e-mail, phone, date). "
            "They are stored in clear in the header and, with KMS, in CloudTrail.",
        ),
    ] = False,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Encrypt a file or stdin into the AWS Encryption SDK message format (v2, committing)."""
    ctx = parse_context_arg(context)
    if not allow_identifiers:
        for k, v in ctx.items():
            if scrub(v) != v or scrub(k) != k:
                raise fail(
                    f"--context entry {k if scrub(k) == k else '<redacted>'!r} looks like an "
                    "identifier; the context is stored in clear (and logged by CloudTrail with "
                    "KMS): use opaque ids, or pass --allow-identifier-context",
                    ExitCode.USAGE,
                )
    src, out = _io_paths(src, output, binary_out=True)
    keyring = keyring_for(key, store=None if is_kms_key_ref(key) else _open_store())
    suite = (
        Suite.AES256_HKDF_SHA512_COMMIT_ECDSA_P384 if signed else Suite.AES256_HKDF_SHA512_COMMIT
    )
    info = encrypt_file(src, out, keyring, context=ctx, suite=suite, frame_length=frame_length)
    _report(info, fmt, "encrypted", out)


@_crypto_errors
def decrypt_cmd(
    src: InputArg = None,
    output: OutputOpt = None,
    key: KeyOpt = ...,  # type: ignore[assignment]
    context: ContextOpt = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Decrypt a message. --context pairs must match the message's context. To a file, output
    appears only once everything (including a signature) verified; to stdout, frames are
    released as each authenticates, and a bad signature at the end still exits non-zero."""
    ctx = parse_context_arg(context)
    src, out = _io_paths(src, output, binary_out=False)
    keyring = keyring_for(key, store=None if is_kms_key_ref(key) else _open_store())
    info = decrypt_file(src, out, keyring, expected_context=ctx)
    _report(info, fmt, "decrypted", out)


def register(app: typer.Typer) -> None:
    """Register this module's commands on the root app."""
    app.add_typer(keys_app, name="keys")
    app.command("encrypt")(encrypt_cmd)
    app.command("decrypt")(decrypt_cmd)


__all__ = ["register"]
