"""Archives: nested paths, bombs (ratio, size, total, depth, entries), encryption, streaming."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile

import pytest

from phiward.core.entities import EntityType as E
from phiward.demo.formats import (
    bomb_bytes,
    hl7_message,
    nested_zip_bytes,
    people,
    protected_zip_bytes,
    zip_bytes,
)
from phiward.errors import InputError
from phiward.formats._archive import ArchiveReader
from phiward.formats._limits import FormatLimits, MiB, set_limits

READER = ArchiveReader()
MSG = hl7_message(people()[0], "1").encode()
SSN = people()[0].ssn


def read(data: bytes, name: str = "a.zip") -> list:  # type: ignore[type-arg]
    return list(READER.read(io.BytesIO(data), name))


def statuses(units: list) -> list[str]:  # type: ignore[type-arg]
    return [u.status for u in units if u.status]


def ssn_fields(units: list) -> list[str]:  # type: ignore[type-arg]
    return [u.field for u in units if u.hint is E.SSN and u.text == SSN]


def test_zip_members_get_prefixed_paths() -> None:
    units = read(zip_bytes({"in/adt.hl7": MSG, "n/inner.zip": zip_bytes({"deep/x.hl7": MSG})}))
    assert "in/adt.hl7!PID-19" in ssn_fields(units)
    assert "n/inner.zip!deep/x.hl7!PID-19" in ssn_fields(units)
    names = [u.text for u in units if u.field and u.field.endswith("(member name)")]
    assert names == ["in/adt.hl7", "n/inner.zip", "deep/x.hl7"]


@pytest.mark.parametrize(
    ("compress", "name", "inner"),
    [
        (gzip.compress, "adt.hl7.gz", "adt.hl7"),
        (bz2.compress, "adt.hl7.bz2", "adt.hl7"),
        (lzma.compress, "adt.hl7.xz", "adt.hl7"),
    ],
)
def test_single_stream_compression(compress, name: str, inner: str) -> None:  # type: ignore[no-untyped-def]
    units = read(compress(MSG), name)
    assert f"{inner}!PID-19" in ssn_fields(units)


def test_tar_gz_streams_members() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("m/adt.hl7")
        info.size = len(MSG)
        archive.addfile(info, io.BytesIO(MSG))
        link = tarfile.TarInfo("m/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    units = read(gzip.compress(buffer.getvalue()), "x.tgz")
    assert "x.tar!m/adt.hl7!PID-19" in ssn_fields(units)
    assert not any(u.field and "link" in u.field and "(member name)" not in u.field for u in units)


def test_non_seekable_stream() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
            chunk = self._inner.read(min(len(buffer), 1000))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    for data, name in ((zip_bytes({"a.hl7": MSG}), "a.zip"), (gzip.compress(MSG), "a.hl7.gz")):
        units = list(READER.read(io.BufferedReader(Pipe(data)), name))  # type: ignore[arg-type]
        assert ssn_fields(units), name


def test_ratio_bomb_is_skipped_without_inflating() -> None:
    units = read(bomb_bytes(20))
    assert statuses(units) == ["skipped:zip bomb: compression ratio over 250"]


def test_member_size_limit() -> None:
    set_limits(FormatLimits(max_member_bytes=1 * MiB, max_ratio=1e9))
    units = read(bomb_bytes(2))
    assert statuses(units) == ["skipped:zip bomb: member declares 2 MiB (limit 1 MiB)"]


@pytest.mark.parametrize(("compress", "name"), [(bz2.compress, "z.bz2"), (lzma.compress, "z.xz")])
def test_bz2_and_xz_bombs(compress, name: str) -> None:  # type: ignore[no-untyped-def]
    units = read(compress(bytes(20 * MiB)), name)
    assert statuses(units) == ["skipped:zip bomb: compression ratio over 250"]


def test_gzip_bomb_is_stopped_while_inflating() -> None:
    data = gzip.compress(bytes(30 * MiB))
    units = read(data, "zeros.gz")
    assert statuses(units) == ["skipped:zip bomb: compression ratio over 250"]
    set_limits(FormatLimits(max_ratio=1e9, max_total_bytes=5 * MiB))
    units = read(data, "zeros.gz")
    assert statuses(units) == ["skipped:zip bomb: archive inflates past 5 MiB"]


def test_total_size_limit_stops_the_archive() -> None:
    set_limits(FormatLimits(max_total_bytes=len(MSG) * 2 + 10))
    units = read(zip_bytes({f"m{i}.hl7": MSG for i in range(5)}))
    assert statuses(units)[-1].startswith("skipped:zip bomb: archive inflates past")
    # two members read, three SSN-bearing fields each (PID-3 rep 2, PID-19, GT1-12)
    assert len(ssn_fields(units)) == 6


def test_depth_limit() -> None:
    set_limits(FormatLimits(max_depth=2))
    units = read(nested_zip_bytes(3, MSG))
    assert statuses(units) == ["skipped:zip bomb: archives nested deeper than 2"]
    units = read(nested_zip_bytes(2, MSG))
    assert ssn_fields(units)


def test_entry_limit() -> None:
    set_limits(FormatLimits(max_entries=3))
    units = read(zip_bytes({f"f{i}.txt": b"x" for i in range(10)}))
    assert statuses(units)[-1] == "skipped:zip bomb: more than 3 entries"


def test_encrypted_member_is_reported_as_encrypted() -> None:
    units = read(protected_zip_bytes({"a.hl7": MSG, "b.hl7": MSG}))
    assert [(u.field, u.status) for u in units if u.status] == [
        ("a.hl7", "encrypted"),
        ("b.hl7", "encrypted"),
    ]


def test_corrupt_archives() -> None:
    with pytest.raises(InputError):
        read(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InputError):
        read(b"\x1f\x8b\x08\x00garbage", "x.gz")
    good = zip_bytes({"in.zip": b"PK\x03\x04broken", "ok.hl7": MSG})
    units = read(good)
    assert any(u.status and u.status.startswith("error:") for u in units)
    assert ssn_fields(units)


def test_unknown_member_format_is_skipped() -> None:
    units = read(zip_bytes({"blob.bin": bytes(range(256))}))
    assert statuses(units) == ["skipped:no reader for this format"] or statuses(units) == []


def test_refused_input_is_a_security_event() -> None:
    from phiward.core.events import SecurityEvent, set_hook

    seen: list[SecurityEvent] = []
    previous = set_hook(seen.append)
    try:
        read(bomb_bytes(20))
        from tests.formats.conftest import read_bytes

        read_bytes(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><r/>', "x.xml")
    finally:
        set_hook(previous)
    assert [(e.action, e.outcome, e.reason) for e in seen] == [
        ("input.refuse", "failure", "zip bomb"),
        ("input.refuse", "failure", "xml entity declaration"),
    ]
    assert all("bomb.zip" not in str(e) and "zeros" not in str(e) for e in seen)


def test_lying_zip_header_cannot_inflate_past_its_declared_size() -> None:
    # Declare 100 bytes for a member that really inflates to 1 MiB: zipfile stops at the
    # declared size and the CRC check fails, so the member is an error, not a 1 MiB read.
    raw = bytearray(zip_bytes({"z.hl7": bytes(1 << 20)}))
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        info = archive.infolist()[0]
        central = archive.start_dir
    raw[info.header_offset + 22 : info.header_offset + 26] = (100).to_bytes(4, "little")
    raw[central + 24 : central + 28] = (100).to_bytes(4, "little")
    units = read(bytes(raw))
    assert statuses(units) == ["error:archive member is corrupt or uses an unsupported method"]


def test_repetitive_real_text_is_not_a_bomb() -> None:
    ps = people(8)
    batch = "".join(hl7_message(ps[i % 8], f"M{i}") for i in range(2000)).encode()
    data = gzip.compress(batch)
    assert len(batch) / len(data) > 60  # as repetitive as real interface-engine archives get
    units = read(data, "batch.hl7.gz")
    assert statuses(units) == []
    assert len([u for u in units if u.field == "batch.hl7!PID-5.1"]) == 2000


def test_huge_central_directory_is_refused_before_parsing() -> None:
    # 12,000 empty entries: the end record is read, the directory is never parsed.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for index in range(12_000):
            archive.writestr(f"e{index}", b"")
    from phiward.formats._archive import declared_zip_entries

    assert declared_zip_entries(io.BytesIO(out.getvalue())) == 12_000
    units = read(out.getvalue())
    assert [u.status for u in units] == ["skipped:zip bomb: more than 10000 entries"]


@pytest.mark.parametrize("magic", [b"7z\xbc\xaf\x27\x1c\x00\x04", b"Rar!\x1a\x07\x01\x00"])
def test_7z_and_rar_are_reported_as_not_read(magic: bytes) -> None:
    units = read(magic + bytes(100), "x.7z")
    assert statuses(units) == ["skipped:7z/RAR archive is not read"]
    inner = read(zip_bytes({"in/x.rar": magic + bytes(50)}))
    assert statuses(inner) == ["skipped:7z/RAR archive is not read"]
