"""Throughput of each phiward format reader beside the bare parse cost of its library.

Run: ``.venv/bin/python bench/formats_bench.py [--scale 1.0] [--repeat 5] [--json]``

For each format, one synthetic corpus is built in memory (the demo generator's people, repeated),
then timed twice on one core: the phiward reader producing every TextUnit, and the "bare" parse
that any scanner of that format must pay (``json.loads``, ``pydicom.dcmread`` + element access,
``lxml`` parse + walk, ``pypdf`` text extraction, ``openpyxl`` read-only rows, ``pyarrow`` row
group reads...). The ratio reader/bare is the structure-handling overhead (target: <= 2x).
Detection (``phiward.detect``) is not included: it is timed by the scan benchmark.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import platform
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from phiward.demo.formats import (
    dicom_bytes,
    fhir_patient,
    hl7_message,
    image_bytes,
    parquet_bytes,
    pdf_bytes,
    people,
    zip_bytes,
)
from phiward.formats import ColumnCells, read_units, reader_for


@dataclass
class Case:
    name: str
    files: list[tuple[str, bytes]]
    items: int
    item_name: str
    bare: Callable[[list[tuple[str, bytes]]], int]
    bare_name: str
    per_cell: bool = False


def read_all(files: list[tuple[str, bytes]], per_cell: bool = False) -> int:
    """Every unit of every file, as the scanner consumes them (``read_units``: Parquet column
    cells in batches); ``per_cell`` uses ``Reader.read`` (one TextUnit per cell) instead.
    Returns the number of units, a batch counting one per cell."""
    count = 0
    for name, data in files:
        reader = reader_for(data[:8192], name)
        assert reader is not None, name
        stream = io.BytesIO(data)
        items = reader.read(stream, name) if per_cell else read_units(reader, stream, name)
        for unit in items:
            if isinstance(unit, ColumnCells):
                count += len(unit.texts)
                continue
            # A skipped or failed part would make the number meaningless.
            assert unit.status is None or "pixels" in unit.status, (
                name,
                unit.status,
            )
            count += 1
    return count


def make_scan_all(tmp: Path) -> Callable[[list[tuple[str, bytes]]], int]:
    """The full ``phiward scan`` path for one file: reader + detection engine + column logic
    (files written once under ``tmp``; one in-process FileScanner, as one worker uses)."""
    from phiward.core.fingerprint import Fingerprinter
    from phiward.discover import FileScanner, ScanOptions
    from phiward.discover._scanner import _make_analyzer

    options = ScanOptions(workers=1)
    scanner = FileScanner(_make_analyzer(Fingerprinter(b"k" * 32), options), options)
    written: dict[int, list[Path]] = {}

    def scan_all(files: list[tuple[str, bytes]]) -> int:
        paths = written.get(id(files))
        if paths is None:
            folder = tmp / str(len(written))
            folder.mkdir()
            paths = []
            for name, data in files:
                path = folder / name
                path.write_bytes(data)
                paths.append(path)
            written[id(files)] = paths
        count = 0
        for path in paths:
            result = scanner.scan_file(path)
            assert result.status == "scanned", (path.name, result.status, result.reason)
            count += len(result.findings)
        return count

    return scan_all


def best(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times = []
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


# -- bare parsers --------------------------------------------------------------------------------


def bare_hl7(files: list[tuple[str, bytes]]) -> int:
    count = 0
    for _, data in files:
        for segment in data.decode().replace("\n", "\r").split("\r"):
            count += len(segment.split("|"))
    return count


def bare_hl7_lib(files: list[tuple[str, bytes]]) -> int:
    """python-hl7 (the ``hl7`` package, dev extra): split the batch, parse every message."""
    import hl7

    count = 0
    for _, data in files:
        for message in hl7.split_file(data.decode()):
            count += len(hl7.parse(message))
    return count


def bare_json_walk(files: list[tuple[str, bytes]]) -> int:
    """json.loads plus the cheapest possible Python walk to every string leaf (no paths)."""

    def walk(node: object) -> int:
        if isinstance(node, dict):
            return sum(walk(v) for v in node.values())
        if isinstance(node, list):
            return sum(walk(v) for v in node)
        return 1 if isinstance(node, str) else 0

    count = 0
    for name, data in files:
        for line in data.splitlines() if name.endswith(".ndjson") else [data]:
            if line.strip():
                count += walk(json.loads(line))
    return count


def bare_json(files: list[tuple[str, bytes]]) -> int:
    return sum(len(json.loads(data)) for _, data in files)


def bare_ndjson(files: list[tuple[str, bytes]]) -> int:
    return sum(len(json.loads(line)) for _, data in files for line in data.splitlines() if line)


def bare_lxml(files: list[tuple[str, bytes]]) -> int:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return sum(
        sum(1 for el in etree.fromstring(data, parser).iter() if el.text) for _, data in files
    )


def bare_dicom(files: list[tuple[str, bytes]]) -> int:
    import pydicom

    count = 0
    for _, data in files:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        for elem in ds:
            _ = elem.value
            count += 1
    return count


def bare_pdf(files: list[tuple[str, bytes]]) -> int:
    from pypdf import PdfReader

    return sum(
        len(page.extract_text()) for _, data in files for page in PdfReader(io.BytesIO(data)).pages
    )


def bare_docx(files: list[tuple[str, bytes]]) -> int:
    import docx

    count = 0
    for _, data in files:
        document = docx.Document(io.BytesIO(data))
        count += sum(len(p.text) for p in document.paragraphs)
        for table in document.tables:
            count += sum(len(c.text) for row in table.rows for c in row.cells)
    return count


def bare_xlsx(files: list[tuple[str, bytes]]) -> int:
    import openpyxl

    count = 0
    for _, data in files:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                count += len(row)
        book.close()
    return count


def bare_parquet_arrow(files: list[tuple[str, bytes]]) -> int:
    import pyarrow.parquet as pq

    count = 0
    for _, data in files:
        parquet = pq.ParquetFile(io.BytesIO(data))
        for group in range(parquet.num_row_groups):
            count += parquet.read_row_group(group).num_rows
    return count


def bare_parquet_python(files: list[tuple[str, bytes]]) -> int:
    import pyarrow.parquet as pq

    count = 0
    for _, data in files:
        parquet = pq.ParquetFile(io.BytesIO(data))
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group)
            count += sum(len(column.to_pylist()) for column in table.columns)
    return count


def bare_image(files: list[tuple[str, bytes]]) -> int:
    from PIL import Image

    count = 0
    for _, data in files:
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            count += len(exif) + len(exif.get_ifd(0x8825))
    return count


def bare_zip(files: list[tuple[str, bytes]]) -> int:
    count = 0
    for _, data in files:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                count += len(archive.read(info))
    return count


def bare_gzip_hl7(files: list[tuple[str, bytes]]) -> int:
    return bare_hl7_lib([(n, gzip.decompress(d)) for n, d in files])


# -- corpora -------------------------------------------------------------------------------------


def build(scale: float) -> list[Case]:
    ps = people(8)
    n = max(1, int(scale * 100))
    msgs = "".join(hl7_message(ps[i % len(ps)], f"M{i}") for i in range(n * 20)).encode()
    patients = [fhir_patient(ps[i % len(ps)], f"p{i}") for i in range(n * 20)]
    bundle = json.dumps(
        {"resourceType": "Bundle", "entry": [{"resource": p} for p in patients]}
    ).encode()
    ndjson = ("\n".join(json.dumps(p) for p in patients) + "\n").encode()
    cda_one = _cda_doc(ps)
    lines = [f"Patient {p.given} {p.family} SSN {p.ssn} phone {p.phone}" for p in ps] * 4
    pdf = pdf_bytes(lines, image_page=False)
    docx_file = _docx(ps, n)
    xlsx_file = _xlsx(ps, n)
    parquet = parquet_bytes(ps, repeat=n * 25, row_group_size=2000)
    images = [(f"i{i}.jpg", image_bytes("jpg", ps[i % len(ps)])) for i in range(n)]
    dicoms = [(f"d{i}.dcm", dicom_bytes(ps[i % len(ps)])) for i in range(n)]
    member = hl7_message(ps[0], "Z").encode()
    archive = zip_bytes({f"m/{i}.hl7": member for i in range(n * 2)})
    rows: list[tuple[str, list[tuple[str, bytes]], int, str, Callable[..., int], str]] = [
        ("HL7 v2 batch", [("adt.hl7", msgs)], n * 20, "messages", bare_hl7_lib, "python-hl7 parse"),
        ("HL7 v2 batch (vs split)", [("adt.hl7", msgs)], n * 20, "messages", bare_hl7, "str.split"),
        ("FHIR Bundle JSON", [("b.json", bundle)], n * 20, "resources", bare_json, "json.loads"),
        (
            "FHIR Bundle (vs walk)",
            [("b.json", bundle)],
            n * 20,
            "resources",
            bare_json_walk,
            "json.loads + leaf walk",
        ),
        (
            "FHIR NDJSON",
            [("p.ndjson", ndjson)],
            n * 20,
            "resources",
            bare_ndjson,
            "json.loads per line",
        ),
        (
            "FHIR NDJSON (vs walk)",
            [("p.ndjson", ndjson)],
            n * 20,
            "resources",
            bare_json_walk,
            "json.loads + leaf walk",
        ),
        (
            "C-CDA XML",
            [(f"c{i}.xml", cda_one) for i in range(n)],
            n,
            "documents",
            bare_lxml,
            "lxml parse + walk",
        ),
        ("DICOM header", dicoms, n, "files", bare_dicom, "pydicom dcmread + values"),
        (
            "PDF text",
            [(f"r{i}.pdf", pdf) for i in range(max(1, n // 5))],
            max(1, n // 5),
            "pages",
            bare_pdf,
            "pypdf extract_text",
        ),
        ("DOCX", [("d.docx", docx_file)], n * 5, "paragraphs", bare_docx, "python-docx text"),
        ("XLSX", [("p.xlsx", xlsx_file)], n * 10, "rows", bare_xlsx, "openpyxl read-only rows"),
        (
            "Parquet",
            [("p.parquet", parquet)],
            n * 25 * len(ps),
            "rows",
            bare_parquet_python,
            "pyarrow row groups + to_pylist",
        ),
        (
            "Parquet (per-cell read())",
            [("p.parquet", parquet)],
            n * 25 * len(ps),
            "rows",
            bare_parquet_python,
            "pyarrow row groups + to_pylist",
        ),
        (
            "Parquet (vs Arrow only)",
            [("p.parquet", parquet)],
            n * 25 * len(ps),
            "rows",
            bare_parquet_arrow,
            "pyarrow read_row_group",
        ),
        ("JPEG EXIF", images, n, "images", bare_image, "Pillow getexif"),
        (
            "zip of HL7",
            [("a.zip", archive)],
            n * 2,
            "members",
            bare_zip_hl7,
            "zipfile + python-hl7",
        ),
        (
            "gzip HL7",
            [("adt.hl7.gz", gzip.compress(msgs))],
            n * 20,
            "messages",
            bare_gzip_hl7,
            "gzip + python-hl7",
        ),
    ]
    return [Case(*row, per_cell=row[0].endswith("(per-cell read())")) for row in rows]


def bare_zip_hl7(files: list[tuple[str, bytes]]) -> int:
    return bare_hl7_lib([(m, d) for _, z in files for m, d in _unzip(z)])


def _unzip(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(i.filename, archive.read(i)) for i in archive.infolist()]


def _cda_doc(ps: list) -> bytes:  # type: ignore[type-arg]
    """The demo C-CDA plus ten sections shaped like a real CCD's: a narrative table and coded
    entries (observation/code/value/effectiveTime) per section, ~60 KB in all."""
    import tempfile
    from pathlib import Path

    from phiward.demo.formats import write_format_samples

    with tempfile.TemporaryDirectory() as tmp:
        write_format_samples(Path(tmp) / "s")
        base = (Path(tmp) / "s" / "cda" / "ccd.xml").read_text()
    sections = []
    for number in range(10):
        rows = "".join(
            f"<tr><td>Problem {number}-{row}</td><td>Active</td><td>03/0{row % 9 + 1}/2023</td>"
            f"<td>Seen by Dr Sorensen; spoke with {ps[row % len(ps)].given}</td></tr>"
            for row in range(20)
        )
        entries = "".join(
            '<entry><observation classCode="OBS" moodCode="EVN">'
            f'<templateId root="2.16.840.1.113883.10.20.22.4.4"/><id root="1.2.3.{row}"/>'
            '<code code="55607006" codeSystem="2.16.840.1.113883.6.96"/>'
            '<statusCode code="completed"/><effectiveTime><low value="20230301"/></effectiveTime>'
            '<value xsi:type="CD" code="233604007" codeSystem="2.16.840.1.113883.6.96"/>'
            "</observation></entry>"
            for row in range(20)
        )
        sections.append(
            f"<component><section><title>Section {number}</title><text><table><tbody>{rows}"
            f"</tbody></table></text>{entries}</section></component>"
        )
    return base.replace("</structuredBody>", "".join(sections) + "</structuredBody>").encode()


def _docx(ps: list, n: int) -> bytes:  # type: ignore[type-arg]
    import docx

    document = docx.Document()
    for i in range(n * 5):
        p = ps[i % len(ps)]
        document.add_paragraph(f"{p.given} {p.family} (SSN {p.ssn}) seen on 03/01/2024.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _xlsx(ps: list, n: int) -> bytes:  # type: ignore[type-arg]
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "SSN", "DOB", "Phone", "Notes"])
    for i in range(n * 10):
        p = ps[i % len(ps)]
        sheet.append([f"{p.given} {p.family}", p.ssn, p.birth, p.phone, f"Call {p.given}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="corpus size multiplier")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best kept)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--only", default="", help="run only the formats whose name contains this (e.g. FHIR)"
    )
    args = parser.parse_args()
    rows = []
    tmp = tempfile.TemporaryDirectory()
    try:
        from phiward.discover import FileScanner  # noqa: F401 - is the scanner there?

        scan_all: Callable[[list[tuple[str, bytes]]], int] | None = make_scan_all(Path(tmp.name))
    except ImportError:
        scan_all = None
    for case in build(args.scale):
        if args.only.lower() not in case.name.lower():
            continue
        size = sum(len(d) for _, d in case.files)
        read_all(case.files, case.per_cell)  # warm imports and caches
        case.bare(case.files)
        # Interleave the two so machine noise (shared cores) hits both alike; keep the best.
        t_reader, t_bare, t_scan, units, findings = (float("inf"),) * 3 + (0, 0)
        if scan_all is not None:
            scan_all(case.files)
        for _ in range(args.repeat):
            one, units = best(lambda c=case: read_all(c.files, c.per_cell), 1)
            two, _ = best(lambda c=case: c.bare(c.files), 1)
            t_reader, t_bare = min(t_reader, one), min(t_bare, two)
            if scan_all is not None:
                three, findings = best(lambda c=case, s=scan_all: s(c.files), 1)
                t_scan = min(t_scan, three)
        rows.append(
            {
                "format": case.name,
                "bytes": size,
                "items": case.items,
                "item": case.item_name,
                "units": units,
                "reader_s": t_reader,
                "bare_s": t_bare,
                "reader_mb_s": size / t_reader / 1e6,
                "reader_items_s": case.items / t_reader,
                "bare_mb_s": size / t_bare / 1e6,
                "ratio": t_reader / t_bare,
                "scan_s": t_scan,
                "scan_items_s": case.items / t_scan,
                "scan_ratio": t_scan / t_bare,
                "findings": findings,
                "bare": case.bare_name,
            }
        )
    if args.json:
        print(
            json.dumps(
                {"machine": platform.platform(), "python": platform.python_version(), "rows": rows},
                indent=2,
            )
        )
        return
    print(f"machine: {platform.platform()} python {platform.python_version()}")
    tmp.cleanup()
    print(
        "| format | size | reader items/s | units | bare parse (what) | bare items/s "
        "| reader/bare | scan items/s | findings | scan/bare |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        bare_items = r["items"] / r["bare_s"]
        print(
            f"| {r['format']} | {r['bytes'] / 1e6:.2f} MB | {r['reader_items_s']:,.0f} {r['item']} "
            f"| {r['units']:,} | {r['bare']} | {bare_items:,.0f} | {r['ratio']:.2f}x "
            f"| {r['scan_items_s']:,.0f} | {r['findings']:,} | {r['scan_ratio']:.2f}x |"
        )


if __name__ == "__main__":
    main()
