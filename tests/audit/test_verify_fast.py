"""``verify``'s chunk-at-a-time fast path accepts exactly what the row-by-row loop accepts.

The fast path (``_clean_batch``) only says "this chunk is clean"; anything else goes to the row
loop, which names the problem. So the two must agree on every input: rows are built as the log
writes them, then tampered with in every way the fault-injection suite uses (and a few more), and
``_scan`` runs with the fast path on and off, on chunks small enough to cut through the damage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from phiward.audit import AuditEvent
from phiward.audit import verify as V
from phiward.audit.event import canonical_json, iso_utc, utcnow
from phiward.audit.log import row_mac

KEY = b"k" * 32
Row = tuple[int, bytes | None, bytes, bytes | None, bool, int]
# What the database holds as a row's indexed copies, where a tampering step edited them (the last
# field of a row then says "check the copies"); every other row's copies match its body.
COPIES: dict[int, tuple[Any, ...]] = {}


def _row(seq: int, event: AuditEvent, recorded: str, *, at: int | None = None) -> Row:
    """A row as the writer stores it (``at`` puts an event written for ``seq`` elsewhere)."""
    body = canonical_json(event.to_dict(recorded=recorded, seq=seq))
    leaf = hashlib.sha256(b"\x00" + body).digest()
    return (seq if at is None else at, body, leaf, row_mac(KEY, seq, leaf), False, 0)


def _events(n: int) -> list[AuditEvent]:
    out = []
    for i in range(n):
        details: dict[str, str | int | float | bool] = {"seq": i + 7} if i % 5 == 3 else {}
        if i % 11 == 10:
            out.append(AuditEvent(type="audit.retention", action="D", details={
                "purged_through_seq": max(0, i - 4), "count": 3, "cutoff": "2020"}))  # fmt: skip
        else:
            out.append(AuditEvent(type="phi.read", action="R", user_id=f"u{i}", details=details))
    return out


_edits = st.lists(
    st.tuples(
        st.sampled_from(
            ["flip", "drop", "purge", "unpurge", "swap", "insert", "reseq", "brace", "copy", "none"]
        ),
        st.integers(min_value=0, max_value=10_000),
        st.integers(min_value=0, max_value=10_000),
    ),
    max_size=4,
)


def _tamper(rows: list[Row], edits: list[tuple[str, int, int]], recorded: str) -> list[Row]:
    rows = list(rows)
    for kind, a, b in edits:
        if not rows:
            break
        i, j = a % len(rows), b % len(rows)
        seq, body, leaf, mac, purged, indexed = rows[i]
        if kind == "flip" and body:
            k = b % len(body)
            flipped = body[:k] + bytes([body[k] ^ 1]) + body[k + 1 :]
            rows[i] = (seq, flipped, leaf, mac, purged, indexed)
        elif kind == "drop":
            del rows[i]
        elif kind == "purge":
            rows[i] = (seq, None, leaf, mac, True, 0)
        elif kind == "unpurge":
            rows[i] = (seq, None, leaf, mac, False, 0)
        elif kind == "swap":
            rows[i], rows[j] = (seq, *rows[j][1:]), (rows[j][0], body, leaf, mac, purged, indexed)  # type: ignore[assignment]
        elif kind == "insert":
            extra = _row(seq, AuditEvent(type="evil", action="C"), recorded)
            rows.insert(i, extra)
        elif kind == "reseq" and body:  # a body rewritten for another seq, hash recomputed
            event = AuditEvent(type="phi.read", action="R", user_id="x")
            rows[i] = _row(seq + 1 + b % 3, event, recorded, at=seq)
        elif kind == "brace" and body:  # "seq" as the last key: followed by "}", not ","
            text = canonical_json({"action": "R", "seq": seq})
            lf = hashlib.sha256(b"\x00" + text).digest()
            rows[i] = (seq, text, lf, row_mac(KEY, seq, lf), False, 0)
        elif kind == "copy":  # an indexed copy edited: the row's body still verifies
            COPIES[seq] = ("2000-01-01T00:00:00.000000Z", "phi.read", "R", f"u{b}", None)
            rows[i] = (seq, body, leaf, mac, purged, 1)
    return rows


def _batches(rows: list[Row], size: int) -> Iterator[list[tuple[Any, ...]]]:
    for k in range(0, len(rows), size):
        yield rows[k : k + size]


def _run(rows: list[Row], fast: bool, trusted_below: int, lo: int, hi: int) -> V._Partial:
    V._FAST_PATH = fast
    try:
        return V._scan(
            _batches(rows, 7), KEY, trusted_below, lo, hi,
            mac_of=lambda seq: None, indexed_of=COPIES.get,
        )  # fmt: skip
    finally:
        V._FAST_PATH = True


@settings(max_examples=300, deadline=None)
@example(n=10, lo=0, trusted=0, chunk=256, edits=[("insert", 2, 0), ("drop", 6, 0)])  # 0,1,2,2,3,5
@example(n=10, lo=2, trusted=4, chunk=4, edits=[("swap", 1, 2), ("brace", 7, 0)])
@given(
    n=st.integers(min_value=0, max_value=40),
    lo=st.integers(min_value=0, max_value=3),
    trusted=st.integers(min_value=0, max_value=50),
    chunk=st.sampled_from([1, 3, 4, 256]),
    edits=_edits,
)
def test_fast_and_row_paths_agree(
    n: int, lo: int, trusted: int, chunk: int, edits: list[tuple[str, int, int]]
) -> None:
    recorded = iso_utc(utcnow())
    rows = [_row(lo + i, e, recorded) for i, e in enumerate(_events(n))]
    COPIES.clear()
    rows = _tamper(rows, edits, recorded)
    saved = V._CHUNK
    V._CHUNK = chunk
    try:
        fast = _run(rows, True, trusted, lo, lo + n)
        slow = _run(rows, False, trusted, lo, lo + n)
    finally:
        V._CHUNK = saved
    assert fast.problems == slow.problems
    assert fast.leaves == slow.leaves
    assert fast.unsigned == slow.unsigned
    assert fast.purged_rows == slow.purged_rows
    assert fast.purged_through == slow.purged_through


def test_the_fast_path_takes_clean_chunks() -> None:
    """It is not merely a no-op that always hands over to the row loop."""
    recorded = iso_utc(utcnow())
    rows: list[tuple[Any, ...]] = [
        _row(i, AuditEvent(type="phi.read", action="R", patient_id=f"p{i}"), recorded)
        for i in range(10)
    ]
    part = V._Partial()
    assert V._clean_batch(rows, 0, 5, part)
    assert len(part.leaves) == 10 and [u[0] for u in part.unsigned] == [5, 6, 7, 8, 9]
    assert not V._clean_batch(rows, 1, 5, V._Partial())  # not where the log expects it
    bad = list(rows)
    bad[3] = (3, rows[3][1][:-1] + b" ", *rows[3][2:])
    assert not V._clean_batch(bad, 0, 5, V._Partial())
    flagged = list(rows)
    flagged[4] = (*rows[4][:5], 1)  # its indexed copies differ from its body
    assert not V._clean_batch(flagged, 0, 5, V._Partial())


def test_edited_copies_are_named_by_the_row_loop() -> None:
    recorded = iso_utc(utcnow())
    event = AuditEvent(type="phi.read", action="R", user_id="dr-a", patient_id="p1")
    row = _row(0, event, recorded)
    body = row[1]
    assert body is not None
    own = V._indexed_differ(body, (event.to_dict()["occurred"], "phi.read", "R", "dr-a", "p1"))
    assert own == []
    part = V._Partial()
    copies = (event.to_dict()["occurred"], "phi.read", "R", "dr-b", None)
    V._scan_rows([(*row[:5], 1)], 0, KEY, 5, part, lambda seq: None, lambda seq: copies)
    assert [(p.kind, p.first, p.detail) for p in part.problems] == [
        ("modified", 0, "the indexed copies of user_id, patient_id differ from the signed body")
    ]
    assert V._indexed_differ(b"not json", copies) == list(V.store.INDEXED)
    assert V._indexed_differ(body, (*copies[:3], b"dr-a", "p1")) == ["user_id"]  # a BLOB copy
