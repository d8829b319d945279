"""The reader contract: a format reader turns bytes into :class:`TextUnit` values with structure.

Readers know formats, not PHI: they never decide what is an identifier. What they do know is
*structure* (HL7 ``PID-5`` is a patient name, FHIR ``Patient.birthDate`` a birth date), and they
pass it on as a ``hint`` that the scanner turns into a high-confidence finding. Everything else is
text for the detection engine. Readers stream: they yield units as they parse and never hold a
whole large file in memory when the format allows otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, Protocol, cast, runtime_checkable

from phiward.core.entities import EntityType


@dataclass(slots=True)
class TextUnit:
    """A piece of text and where it came from inside its file. Treat it as immutable (derive
    with ``dataclasses.replace``); it is not ``frozen`` only because a frozen ``__init__`` costs
    about 1 µs more per unit, which dominated the FHIR and Parquet readers.

    ``field`` is the structural path (``PID-5.1``, ``Patient.name[0].family``,
    ``(0010,0010) PatientName``, ``Sheet1!C12``, ``page 3``, a CSV column name or JSON key path).
    ``line`` is the 1-based line of the unit's first character when the format has lines.
    ``hint`` is the entity type the structure itself proves, with ``hint_confidence``; the scanner
    reports the whole unit as that entity and still runs the text engine over it unless
    ``hint_only`` is set (a DICOM ``PatientName`` holds nothing else worth looking for).
    ``status`` marks units that are not text at all: ``"encrypted"`` (the protected state),
    ``"skipped:<reason>"`` (budget, bomb limit, image-only page), ``"error:<reason>"`` (malformed
    part, reported and not fatal). Such units carry ``text == ""``.
    """

    text: str
    field: str | None = None
    line: int | None = None
    byte_offset: int | None = None
    hint: EntityType | None = None
    hint_confidence: float = 0.0
    hint_only: bool = False
    column_name: str | None = None
    status: str | None = None


@dataclass(slots=True)
class ColumnCells:
    """The non-empty cells of one table column, as one batch (columnar readers only).

    A batch stands for one ``TextUnit(text, field, line, column_name=column_name)`` per cell:
    ``texts[i]`` is the cell's text and ``lines[i]`` its 1-based row. ``field`` is the structural
    path of every cell (``address.city`` for a struct field), ``column_name`` the column the
    scanner's column statistics group it under (equal to ``field`` for Parquet). Batches exist so
    a column chunk that Arrow already holds in memory reaches the scanner without one Python
    object per cell; :meth:`units` gives the per-cell form. Treat as immutable.
    """

    column_name: str
    field: str
    texts: Sequence[str]
    lines: Sequence[int]

    def units(self) -> Iterator[TextUnit]:
        """The batch as plain column units, in row order."""
        name, field = self.column_name, self.field
        for text, line in zip(self.texts, self.lines, strict=True):
            yield TextUnit(text, field, line, column_name=name)


@runtime_checkable
class Reader(Protocol):
    """One file format. ``sniff`` decides from content first, the file name second."""

    name: str

    def sniff(self, head: bytes, filename: str) -> bool:
        """True when this reader handles a file starting with ``head`` (up to 8 KiB)."""
        ...

    def read(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        """Yield the file's text units in order. Raise ``phiward.errors.InputError`` only when
        the whole file is unreadable; a malformed part yields a unit with ``status="error:..."``.
        """
        ...


@runtime_checkable
class ColumnarReader(Reader, Protocol):
    """A reader that can also hand over whole column batches (Parquet).

    ``read_columns`` yields the same content as ``read``, in the same order, except that runs of
    plain column cells may come as one :class:`ColumnCells` instead of one unit per cell.
    Consumers that understand batches (the scanner) call it through :func:`read_units`;
    everything else keeps using ``read``.
    """

    def read_columns(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit | ColumnCells]:
        """Like ``read``, with column cells batched."""
        ...


def read_units(reader: Reader, stream: BinaryIO, filename: str) -> Iterator[TextUnit | ColumnCells]:
    """The file's units with column cells batched when ``reader`` supports it, else ``read``."""
    read_columns = getattr(reader, "read_columns", None)  # cheaper than a Protocol isinstance
    if read_columns is not None:
        return cast(Iterator[TextUnit | ColumnCells], read_columns(stream, filename))
    return iter(reader.read(stream, filename))
