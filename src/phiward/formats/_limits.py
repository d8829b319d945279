"""Per-file budgets and archive limits, and the base class that enforces them on every reader.

A pathological file (a zip bomb, a PDF with a million empty pages, an HL7 file of one endless
segment) must cost a bounded amount of time and memory and end in a clear ``skipped:...`` unit,
never in an exhausted worker. Limits are checked between units, and a text unit longer than
``max_unit_chars`` is handed on in chunks so the time limit is checked again while the detection
engine works through it. Readers also check a :class:`Deadline` inside the loops that can run
long without producing a unit (empty rows, blank lines, coded XML elements) and, through pypdf's
visitor callback, inside a PDF page's content stream. Parsers are additionally bounded by the
byte caps below (how much a reader may load into memory, how much an archive may inflate).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, BinaryIO, cast

from phiward.core.events import SecurityEvent, emit
from phiward.errors import ConfigError, InputError
from phiward.formats._base import ColumnCells, TextUnit

MiB = 1024 * 1024

#: A structural hint at or above this confidence is the whole story for its unit (``hint_only``):
#: the text engine would only re-find the same identifier and report it twice.
HINT_ONLY_FROM = 0.8


@dataclass(frozen=True, slots=True)
class FormatLimits:
    """Bounds for reading one file (settings section ``[formats]``, env ``PHIWARD_FORMATS__*``)."""

    max_seconds: float = 60.0
    """Wall time per file, checked after every unit, inside the readers' long loops and inside
    the PDF reader's page parsing (see :class:`Deadline`)."""
    max_units: int = 2_000_000
    """Units yielded per file before the rest is skipped (each cell of a column batch counts)."""
    max_unit_chars: int = 1 << 20
    """Longest text handed on as one unit; longer text units are split into consecutive chunks
    (at a line break or space where there is one) so the time limit is checked between them."""
    max_load_bytes: int = 256 * MiB
    """Largest file a whole-document reader (XML, FHIR bundle, PDF, DOCX) loads into memory."""
    max_member_bytes: int = 256 * MiB
    """Largest decompressed archive member (members are unpacked in memory, never to disk)."""
    max_total_bytes: int = 1024 * MiB
    """Total bytes an archive (with everything nested in it) may inflate to."""
    max_ratio: float = 250.0
    """Decompressed/compressed ratio above which a member is a bomb (checked past 1 MiB).

    Deflate tops out near 1032:1 and bombs sit there; repetitive but real text (HL7 batches,
    logs) reaches 100:1, so the default sits between the two.
    """
    max_depth: int = 4
    """How deep archives may nest (``a.zip!b.tar.gz!c.zip`` is depth 3)."""
    max_entries: int = 10_000
    """Members per archive (nested members count toward their outer archive too)."""

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> FormatLimits:
        """Build from a settings section; unknown keys or non-positive values are refused."""
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"[formats] unknown setting {key!r}")
            try:
                number = float(value) if key in {"max_seconds", "max_ratio"} else int(value)
            except (TypeError, ValueError):
                raise ConfigError(f"[formats] {key} must be a number") from None
            if number <= 0:
                raise ConfigError(f"[formats] {key} must be positive")
            kwargs[key] = number
        return replace(cls(), **kwargs)


class _Installed:
    """The process-wide limits (None until first use or :func:`set_limits`)."""

    limits: FormatLimits | None = None


def get_limits() -> FormatLimits:
    """The limits readers apply now: those installed by :func:`set_limits`, else the
    ``[formats]`` settings section (read once per process, so pool workers get them too)."""
    limits = _Installed.limits
    if limits is None:
        from phiward.core.settings import load_settings  # noqa: PLC0415 - once, on first use

        limits = _Installed.limits = FormatLimits.from_mapping(load_settings().section("formats"))
    return limits


def set_limits(limits: FormatLimits | None) -> FormatLimits | None:
    """Install new limits (None: back to the settings); returns the previous ones."""
    previous, _Installed.limits = _Installed.limits, limits
    return previous


def skipped(reason: str, field: str | None = None) -> TextUnit:
    """A unit saying part of the file was not read, and why (never carries file content)."""
    return TextUnit(text="", field=field, status=f"skipped:{reason}")


def error(reason: str, field: str | None = None, line: int | None = None) -> TextUnit:
    """A unit reporting a malformed part that did not stop the rest of the file."""
    return TextUnit(text="", field=field, line=line, status=f"error:{reason}")


def encrypted(field: str | None = None, what: str = "") -> TextUnit:
    """The protected state: the content is encrypted, so there is no plaintext to scan."""
    return TextUnit(text=what, field=field, status="encrypted")


class BudgetExceeded(InputError):
    """A file is over a size or time budget: reported as a ``skipped:budget ...`` unit."""


class TimeExceeded(BudgetExceeded):
    """Raised by :meth:`Deadline.check` inside a reader's own loop."""


class Deadline:
    """The current limits' per-file wall time, started now, for checks inside a parser's loop.

    ``check`` is cheap (a clock read) and raises :class:`TimeExceeded` once the time is over;
    :class:`BudgetedReader` turns that into the same ``skipped:budget: over N s`` unit as its own
    check between units.
    """

    __slots__ = ("at", "seconds", "ticks")

    def __init__(self) -> None:
        self.seconds = get_limits().max_seconds
        self.at = time.monotonic() + self.seconds
        self.ticks = 0

    def check(self) -> None:
        """Raise :class:`TimeExceeded` when the time is over."""
        if time.monotonic() > self.at:
            raise TimeExceeded(f"over {self.seconds:g} s")

    def tick(self, *_: object) -> None:
        """One step of a long loop: :meth:`check` every 256 steps (accepts and ignores any
        arguments, so it can be handed to a library as a callback)."""
        self.ticks += 1
        if not self.ticks & 0xFF:
            self.check()


_BREAK_WINDOW = 4096


def chunks(unit: TextUnit, size: int) -> Iterator[TextUnit]:
    """``unit`` split into consecutive pieces of at most ``size`` characters, cut after the last
    line break (else space) within the last 4 KiB of each piece so a word is rarely split.
    Every piece keeps the unit's field; ``line`` is advanced by the line breaks before it and
    ``byte_offset`` is kept on the first piece only. Nothing is dropped: the pieces concatenate to
    the original text."""
    text = unit.text
    start = 0
    line = unit.line
    first = True
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            floor = max(start + 1, end - _BREAK_WINDOW)
            cut = text.rfind("\n", floor, end)
            if cut < 0:
                cut = text.rfind(" ", floor, end)
            if cut >= 0:
                end = cut + 1
        piece = text[start:end]
        yield replace(unit, text=piece, line=line, byte_offset=unit.byte_offset if first else None)
        if line is not None:
            line += piece.count("\n")
        first = False
        start = end


def refused(kind: str, reader: str) -> None:
    """Record that hostile-looking input was refused (bomb, entity expansion, over budget).

    The event names only the reader and the kind of limit: never the file name (it may itself be
    PHI) nor any content.
    """
    emit(
        SecurityEvent(
            action="input.refuse",
            crud="R",
            outcome="failure",
            resource_type="file",
            reason=kind,
            details={"reader": reader},
        )
    )


def read_limited(stream: BinaryIO, limit: int, what: str) -> bytes:
    """Read a whole stream into memory, refusing (BudgetExceeded) more than ``limit`` bytes."""
    data = stream.read(limit + 1)
    if not isinstance(data, bytes | bytearray):
        raise InputError(f"{what}: stream did not return bytes")
    if len(data) > limit:
        raise BudgetExceeded(f"{what} larger than the {limit // MiB} MiB in-memory limit")
    return bytes(data)


class BudgetedReader:
    """Base of the structured readers: budget checks and error discipline around ``_units``.

    Subclasses implement ``sniff`` and ``_units``. Whatever a parsing library raises on hostile
    input is turned into ``InputError`` when nothing was read yet (the file is unreadable), or into
    a final ``error:`` unit once some units were produced (a malformed tail is not fatal).
    """

    name = "base"

    def sniff(self, head: bytes, filename: str) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _units(
        self, stream: BinaryIO, filename: str
    ) -> Iterator[TextUnit | ColumnCells]:  # pragma: no cover - abstract
        raise NotImplementedError

    #: True for readers whose ``_units`` yields :class:`ColumnCells` batches (Parquet).
    batches = False

    def read(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        """Yield the file's units within the current :class:`FormatLimits`."""
        items = self._budgeted(stream, filename)
        if not self.batches:
            return cast(Iterator[TextUnit], items)
        return (
            unit
            for item in items
            for unit in (item.units() if isinstance(item, ColumnCells) else (item,))
        )

    def read_columns(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit | ColumnCells]:
        """Like :meth:`read`, with column cells batched where the reader produces batches."""
        return self._budgeted(stream, filename)

    def _budgeted(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit | ColumnCells]:
        limits = get_limits()
        deadline = time.monotonic() + limits.max_seconds
        max_chars, max_units = limits.max_unit_chars, limits.max_units
        count = 0
        try:
            for item in self._units(stream, filename):
                if item.__class__ is TextUnit and (
                    len(item.text) <= max_chars or item.hint is not None or item.status is not None
                ):
                    yield item
                    count += 1
                else:
                    # A column batch (counts one per cell) or an oversized unit, in chunks with
                    # the time checked between them.
                    pieces: Iterable[TextUnit | ColumnCells] = (
                        (item,) if isinstance(item, ColumnCells) else chunks(item, max_chars)
                    )
                    for piece in pieces:
                        yield piece
                        count += len(piece.texts) if isinstance(piece, ColumnCells) else 1
                        if time.monotonic() > deadline:
                            break
                if count >= max_units:
                    refused("budget: units", self.name)
                    yield skipped(f"budget: more than {max_units} units")
                    return
                if time.monotonic() > deadline:
                    refused("budget: time", self.name)
                    yield skipped(f"budget: over {limits.max_seconds:g} s")
                    return
        except TimeExceeded as exc:
            refused("budget: time", self.name)
            yield skipped(f"budget: {exc}")
        except BudgetExceeded as exc:
            refused("budget: size", self.name)
            yield skipped(f"budget: {exc}")
        except InputError:
            raise
        except (GeneratorExit, KeyboardInterrupt):
            raise
        except MemoryError:
            yield skipped("budget: out of memory")
        except RecursionError:
            if count == 0:
                raise InputError(f"{self.name}: nesting too deep") from None
            yield error("nesting too deep")
        except Exception as exc:
            reason = f"{self.name}: malformed ({type(exc).__name__})"
            if count == 0:
                raise InputError(reason) from None
            yield error(reason)
