"""Issue 3 benchmark: raw AES-256-GCM vs phiward field tokens vs phiward files vs the official
aws-encryption-sdk, on one core.

    .venv/bin/python bench/crypto_bench.py            # full run (~3-4 min)
    .venv/bin/python bench/crypto_bench.py --quick    # smaller stream and KMS counts
    .venv/bin/python bench/crypto_bench.py --fields-only 5   # field-token rows only, 5 runs

Prints Markdown tables (pasted into docs/benchmarks.md). Each cell is the best of several timed
rounds (the machine is shared); ratios are taken between cells measured interleaved.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from phiward.crypto import (
    CacheLimits,
    FieldEncryptor,
    KeyTable,
    KmsKeyProvider,
    LocalKeyStore,
    RawAesKeyring,
    decrypt_stream,
    encrypt_stream,
)

KIB, MIB, GIB = 1024, 1024 * 1024, 1024 * 1024 * 1024
SIZES = [64, KIB, 64 * KIB, 16 * MIB]
WRAPPING_KEY = bytes(range(32))
W = {"table": "patients", "column": "notes", "record_id": "p-000123"}


def pin_one_core() -> str:
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    return f"pinned to CPU {cpus[-1]} of {len(cpus)}"


def rate(fn: Callable[[], object], min_time: float = 0.25, rounds: int = 3) -> float:
    """Best calls/second over ``rounds`` rounds of at least ``min_time`` seconds."""
    fn()
    best = 0.0
    for _ in range(rounds):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = max(best, n / elapsed)
    return best


def interleaved(fns: dict[str, Callable[[], object]], rounds: int = 5) -> dict[str, float]:
    best = dict.fromkeys(fns, 0.0)
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = max(best[name], rate(fn, 0.2, 1))
    return best


def official_sdk() -> tuple[object, object, object] | None:
    try:
        import aws_encryption_sdk
        from aws_encryption_sdk.identifiers import (
            Algorithm,
            CommitmentPolicy,
            EncryptionKeyType,
            WrappingAlgorithm,
        )
        from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
        from aws_encryption_sdk.key_providers.raw import RawMasterKey
    except ImportError:
        return None
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    mk = RawMasterKey(
        provider_id="bench",
        key_id=b"k1",
        wrapping_key=WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=WRAPPING_KEY,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        ),
    )
    return client, mk, Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY


def fmt_rate(ops: float, size: int) -> str:
    mbs = ops * size / 1e6
    if size >= 64 * KIB:
        return f"{mbs:,.0f} MB/s"
    return f"{ops:,.0f}/s ({mbs:,.0f} MB/s)"


def _label(size: int) -> str:
    if size >= MIB:
        return f"{size // MIB} MiB"
    return f"{size // KIB} KiB" if size >= KIB else f"{size} B"


def _size_row(
    size: int, fields: FieldEncryptor, sdk: tuple[object, object, object] | None, quick: bool
) -> str:
    ring = RawAesKeyring("bench", "k1", WRAPPING_KEY)
    aead = AESGCM(os.urandom(32))
    aad = b"x" * 48
    data = os.urandom(size)

    def raw() -> None:
        nonce = os.urandom(12)
        aead.decrypt(nonce, aead.encrypt(nonce, data, aad), aad)

    # Literal keyword arguments, as application code calls the API: ``**W`` would build a
    # kwargs dict per call, ~0.55 µs per enc+dec pair of harness cost (see bench_fields).
    def tok() -> None:
        fields.decrypt(
            fields.encrypt(data, table="patients", column="notes", record_id="p-000123"),
            table="patients",
            column="notes",
            record_id="p-000123",
        )

    def tokb() -> None:
        fields.decrypt_bytes(
            fields.encrypt_bytes(data, table="patients", column="notes", record_id="p-000123"),
            table="patients",
            column="notes",
            record_id="p-000123",
        )

    chunks = [data[i : i + 64 * KIB] for i in range(0, size, 64 * KIB)]

    def raw_chunked() -> None:
        # The streaming ceiling: 64 KiB AES-GCM calls on one reused key, nothing else.
        for chunk in chunks:
            nonce = os.urandom(12)
            aead.decrypt(nonce, aead.encrypt(nonce, chunk, aad), aad)

    cells: dict[str, float] = {}
    if size <= 64 * KIB:
        cells.update(interleaved({"raw": raw, "tok": tok, "tokb": tokb}))
    else:
        cells["raw"] = rate(raw_chunked, 0.5)

    ct = io.BytesIO()
    encrypt_stream(io.BytesIO(data), ct, ring)
    blob = ct.getvalue()

    def fenc() -> None:
        encrypt_stream(io.BytesIO(data), io.BytesIO(), ring)

    def fdec() -> None:
        decrypt_stream(io.BytesIO(blob), io.BytesIO(), ring)

    if sdk is None:
        cells["fenc"], cells["fdec"] = rate(fenc), rate(fdec)
    else:
        client, mk, alg = sdk
        theirs, _ = client.encrypt(source=data, key_provider=mk, algorithm=alg)  # type: ignore[attr-defined]

        def senc() -> None:
            client.encrypt(source=data, key_provider=mk, algorithm=alg)  # type: ignore[attr-defined]

        def sdec() -> None:
            client.decrypt(source=theirs, key_provider=mk)  # type: ignore[attr-defined]

        if size < 16 * MIB:
            cells.update(
                interleaved(
                    {"fenc": fenc, "fdec": fdec, "senc": senc, "sdec": sdec},
                    rounds=2 if quick else 3,
                )
            )
        else:
            # Interleaved with the raw ceiling so a busy neighbour slows both alike.
            cells.update(interleaved({"raw": raw_chunked, "fenc": fenc, "fdec": fdec}, rounds=4))
            cells.update({"senc": rate(senc, 1.0, 2), "sdec": rate(sdec, 1.0, 2)})

    def c(name: str) -> str:
        return fmt_rate(cells[name], size) if name in cells else "n/a"

    def ratio(a: str, b: str) -> str:
        return f"{cells[a] / cells[b]:.0%}" if a in cells and b in cells else "n/a"

    def times(a: str, b: str) -> str:
        return f"{cells[a] / cells[b]:.1f}×" if a in cells and b in cells else "n/a"

    return (
        f"| {_label(size)} | {c('raw')} | {c('tok')} | {ratio('tok', 'raw')} | {c('tokb')} | "
        f"{ratio('tokb', 'raw')} | {c('fenc')} | {c('fdec')} | {c('senc')} | {c('sdec')} | "
        f"{times('fenc', 'senc')}, {times('fdec', 'sdec')} |"
    )


def bench_sizes(fields: FieldEncryptor, quick: bool) -> list[str]:
    sdk = official_sdk()
    lines = [
        "| size | raw AES-GCM enc+dec | field token enc+dec (text) | ratio | field token "
        "(binary) | ratio | phiward file enc | phiward file dec | official SDK enc | "
        "official SDK dec | file/SDK (enc, dec) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in SIZES:
        lines.append(_size_row(size, fields, sdk, quick))
        print(lines[-1], flush=True)
    return lines


def bench_fields(fields: FieldEncryptor, repeats: int) -> list[str]:
    """Field tokens only (64 B and 1 KiB), ``repeats`` independent interleaved runs, to show
    the spread on a shared machine. Also times the text form called with ``**W`` (a kwargs
    dict unpacked per call) to show what that harness style costs."""
    lines = [
        "| size | run | raw AES-GCM enc+dec | text token | ratio | text token, `**kwargs` "
        "call | ratio | binary token | ratio |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size in (64, KIB):
        lines.extend(_fields_rows(fields, size, repeats))
    return lines


def _fields_rows(fields: FieldEncryptor, size: int, repeats: int) -> list[str]:
    lines: list[str] = []
    aead = AESGCM(os.urandom(32))
    aad = b"x" * 48
    data = os.urandom(size)

    def raw() -> None:
        nonce = os.urandom(12)
        aead.decrypt(nonce, aead.encrypt(nonce, data, aad), aad)

    def tok() -> None:
        fields.decrypt(
            fields.encrypt(data, table="patients", column="notes", record_id="p-000123"),
            table="patients",
            column="notes",
            record_id="p-000123",
        )

    def tokd() -> None:
        fields.decrypt(fields.encrypt(data, **W), **W)

    def tokb() -> None:
        fields.decrypt_bytes(
            fields.encrypt_bytes(data, table="patients", column="notes", record_id="p-000123"),
            table="patients",
            column="notes",
            record_id="p-000123",
        )

    for run in range(1, repeats + 1):
        c = interleaved({"raw": raw, "tok": tok, "tokd": tokd, "tokb": tokb})
        lines.append(
            f"| {_label(size)} | {run} | {c['raw']:,.0f}/s | {c['tok']:,.0f}/s | "
            f"{c['tok'] / c['raw']:.0%} | {c['tokd']:,.0f}/s | {c['tokd'] / c['raw']:.0%} | "
            f"{c['tokb']:,.0f}/s | {c['tokb'] / c['raw']:.0%} |"
        )
        print(lines[-1], flush=True)
    return lines


class _Source(io.RawIOBase):
    """``total`` bytes of (repeating) random data, produced on demand: nothing is held."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.block = os.urandom(MIB)

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(b), self.left, len(self.block))
        b[:n] = self.block[:n]
        self.left -= n
        return n


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.n = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.n += len(b)
        return len(b)


def _vm_hwm_kib() -> int:
    """Peak resident set of this process (VmHWM), in KiB. ``ru_maxrss`` would carry the
    parent's peak across fork+exec on Linux."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def stream_child(which: str, total: int, path: str) -> None:
    """Run in a fresh process so its peak RSS is the stream's own."""
    pin_one_core()
    src = io.BufferedReader(_Source(total), 1 * MIB)
    base = _vm_hwm_kib()
    start = time.perf_counter()
    if which == "phiward":
        ring = RawAesKeyring("bench", "k1", WRAPPING_KEY)
        encrypt_stream(src, _Sink(), ring)  # timed: CPU cost, not the disk's write speed
        enc_s = time.perf_counter() - start
        with open(path, "wb") as out:  # untimed: the ciphertext the decrypt run reads back
            encrypt_stream(io.BufferedReader(_Source(total), MIB), out, ring)
        start = time.perf_counter()
        with open(path, "rb") as fin:
            decrypt_stream(fin, _Sink(), ring)
        dec_s = time.perf_counter() - start
    else:
        sdk = official_sdk()
        assert sdk is not None
        client, mk, alg = sdk
        sink = _Sink()
        with client.stream(mode="e", source=src, key_provider=mk, algorithm=alg) as enc:  # type: ignore[attr-defined]
            for chunk in enc:
                sink.write(chunk)
        enc_s = time.perf_counter() - start
        again = io.BufferedReader(_Source(total), MIB)
        with (
            open(path, "wb") as out,
            client.stream(mode="e", source=again, key_provider=mk, algorithm=alg) as enc,  # type: ignore[attr-defined]
        ):
            for chunk in enc:
                out.write(chunk)
        start = time.perf_counter()
        sink = _Sink()
        with (
            open(path, "rb") as fin,
            client.stream(  # type: ignore[attr-defined]
                mode="d", source=fin, key_provider=mk
            ) as dec,
        ):
            for chunk in dec:
                sink.write(chunk)
        dec_s = time.perf_counter() - start
    peak = _vm_hwm_kib()
    print(f"{enc_s} {dec_s} {base} {peak}")


def bench_stream(total: int, with_sdk: bool) -> list[str]:
    lines = [
        "| implementation | stream | encrypt | decrypt | peak RSS (process) | growth |",
        "|---|---|---|---|---|---|",
    ]
    for which in ["phiward", *(["official SDK"] if with_sdk else [])]:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--stream-child",
                    which,
                    str(total),
                    str(Path(tmp) / "s.enc"),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.split()
        enc_s, dec_s, base, peak = float(out[0]), float(out[1]), int(out[2]), int(out[3])
        label = f"{total // GIB} GiB" if total >= GIB else f"{total // MIB} MiB"
        lines.append(
            f"| {which} | {label} | {total / enc_s / 1e6:,.0f} MB/s | {total / dec_s / 1e6:,.0f} "
            f"MB/s | {peak / 1024:,.0f} MB | {(peak - base) / 1024:,.1f} MB |"
        )
        print(lines[-1], flush=True)
    return lines


def bench_kms(n: int) -> list[str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    lines = [
        f"| cache | KMS calls per {n:,} field encryptions | calls saved | encryptions/s |",
        "|---|---|---|---|",
    ]
    try:
        kms = KmsKeyProvider()
        arn = kms.create_key().key_id
        for label, limits in [
            ("off (max_messages=1)", CacheLimits(max_messages=1)),
            ("max_messages=1,000", CacheLimits(max_messages=1000)),
            ("default (5 min, 2^20 messages)", CacheLimits()),
        ]:
            with tempfile.TemporaryDirectory() as tmp:
                fields = FieldEncryptor(kms, KeyTable(f"sqlite:///{tmp}/k.db"), arn, limits=limits)
                kms.calls = 0
                start = time.perf_counter()
                for i in range(n):
                    fields.encrypt(f"value-{i}", **W)
                elapsed = time.perf_counter() - start
                lines.append(
                    f"| {label} | {kms.calls:,} | {fields.calls_saved:,} | {n / elapsed:,.0f} |"
                )
                print(lines[-1], flush=True)
                fields.key_table.engine.dispose()
    finally:
        server.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="64 MiB stream, 1,000 KMS ops")
    parser.add_argument(
        "--no-sdk-stream", action="store_true", help="skip the official SDK on the large stream"
    )
    parser.add_argument(
        "--fields-only",
        type=int,
        metavar="RUNS",
        help="only the 64 B / 1 KiB field-token rows, RUNS independent runs",
    )
    parser.add_argument("--stream-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stream_child:
        stream_child(args.stream_child[0], int(args.stream_child[1]), args.stream_child[2])
        return
    pinned = pin_one_core()
    import cryptography

    print(
        f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"cryptography {cryptography.__version__}, {pinned}\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalKeyStore(Path(tmp) / "ks.json", master_key=os.urandom(32))
        store.create_key("bench")
        fields = FieldEncryptor(store, KeyTable(f"sqlite:///{tmp}/k.db"), "bench")
        if args.fields_only:
            table = bench_fields(fields, args.fields_only)
            print("\n## results\n\n" + "\n".join(table))
            return
        sizes = bench_sizes(fields, args.quick)
        print()
    stream = bench_stream(64 * MIB if args.quick else GIB, not args.no_sdk_stream)
    kms = bench_kms(1000 if args.quick else 10_000)
    print("\n## results\n")
    for table in (sizes, stream, kms):
        print("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
