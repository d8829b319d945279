"""The text engine on real-world-looking text: each recognizer's true and false positives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from phiward.core.entities import EntityType as E
from phiward.core.fingerprint import Fingerprinter
from phiward.detect import Analyzer, PatternEngine, analyze, available_backends

FP = Fingerprinter(b"t" * 32)
ANALYZER = Analyzer(fingerprinter=FP, min_confidence=0.5)


def found(text: str, analyzer: Analyzer = ANALYZER) -> list[tuple[E, str]]:
    return [(c.entity, text[c.start : c.end]) for c in analyzer.candidates(text)]


def types(text: str) -> set[E]:
    return {e for e, _ in found(text)}


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("SSN: 219-45-6789 on file", E.SSN, "219-45-6789"),
        ("social security number 219456789.", E.SSN, "219456789"),
        ("Call the daughter at (617) 253-1000 ext 42", E.PHONE, "(617) 253-1000 ext 42"),
        ("cell: +1 415.555.2671", E.PHONE, "+1 415.555.2671"),
        ("Fax: 617-253-1001", E.FAX, "617-253-1001"),
        ("tel +44 20 7946 0958 (London office)", E.PHONE, "+44 20 7946 0958"),
        (
            "email jane.doe+clinic@mercy-health.org today",
            E.EMAIL,
            "jane.doe+clinic@mercy-health.org",
        ),
        ("MRN: 00123456", E.MRN, "00123456"),
        ("Medical Record Number #AB-778812", E.MRN, "AB-778812"),
        ("Member ID: XEH123456789", E.HEALTH_PLAN_ID, "XEH123456789"),
        ("Medicare MBI 1EG4-TE5-MK73", E.HEALTH_PLAN_ID, "1EG4-TE5-MK73"),
        ("Account No. 44718823", E.ACCOUNT_NUMBER, "44718823"),
        ("paid with card 4111 1111 1111 1111", E.CREDIT_CARD, "4111 1111 1111 1111"),
        ("Driver's license: S53012345", E.LICENSE_NUMBER, "S53012345"),
        ("State license number: MD-88123", E.LICENSE_NUMBER, "MD-88123"),
        ("Prescriber DEA AB1234563", E.DEA_NUMBER, "AB1234563"),
        ("NPI: 1234567893", E.NPI, "1234567893"),
        ("vehicle VIN 1HGCM82633A004352 towed", E.VEHICLE_ID, "1HGCM82633A004352"),
        ("license plate: 7ABC123", E.VEHICLE_ID, "7ABC123"),
        ("Pacemaker serial number: PM88123456", E.DEVICE_ID, "PM88123456"),
        (
            "see https://portal.example.org/p/123?x=1.",
            E.URL,
            "https://portal.example.org/p/123?x=1",
        ),
        ("client ip 192.168.14.201 connected", E.IP_ADDRESS, "192.168.14.201"),
        ("from 2001:db8:85a3::8a2e:370:7334 via vpn", E.IP_ADDRESS, "2001:db8:85a3::8a2e:370:7334"),
        ("DOB: 03/04/61", E.DATE, "03/04/61"),
        ("born March 3rd, 1961 in Ohio", E.DATE, "March 3rd, 1961"),
        ("Admitted 2023-11-02 via ED", E.DATE, "2023-11-02"),
        ("discharged on 4 July 2022", E.DATE, "4 July 2022"),
        ("a 93-year-old woman", E.AGE_OVER_89, "93"),
        ("patient aged 101 with dementia", E.AGE_OVER_89, "101"),
        ("lives at 42 Juniper Lane, Apt 3", E.STREET_ADDRESS, "42 Juniper Lane, Apt 3"),
        ("mail to PO Box 1190", E.STREET_ADDRESS, "PO Box 1190"),
        ("send it to 7167 Postbox 53", E.STREET_ADDRESS, "7167 Postbox 53"),
        ("Anschrift: Postfach 1234, 10117 Berlin", E.STREET_ADDRESS, "Postfach 1234"),
        ("Postbus 1200, Den Haag", E.STREET_ADDRESS, "Postbus 1200"),
        ("Osoite: 6750 Koskikatu 25 Apt. 864", E.STREET_ADDRESS, "6750 Koskikatu 25 Apt. 864"),
        ("Adresse: 4844 Søndergade 52", E.STREET_ADDRESS, "4844 Søndergade 52"),
        ("Springfield, IL 62704", E.CITY, "Springfield"),
        ("Springfield, IL 62704", E.ZIP_CODE, "62704"),
        ("resident of Fremont County", E.COUNTY, "Fremont County"),
        ("zip code: 03601", E.ZIP_CODE, "03601"),
        ("Patient ID: A99812", E.OTHER_ID, "A99812"),
        ("082 490 1693-Office", E.PHONE, "082 490 1693"),  # not NANP, but labelled a phone
        ("Mobile: 0487 98 11 92", E.PHONE, "0487 98 11 92"),
        (
            "Meet me at PSC 1437, Box 3833 APO AA 66791",
            E.STREET_ADDRESS,
            "PSC 1437, Box 3833 APO AA 66791",
        ),
        ("write to USS Alamo, FPO AP 96697", E.STREET_ADDRESS, "USS Alamo, FPO AP 96697"),
        ("mail goes to Apt. 297 now", E.STREET_ADDRESS, "Apt. 297"),
        ("lives at Piroska u. 97. in Szeged", E.STREET_ADDRESS, "Piroska u. 97"),
        ("Harjukuja 54, Seinäjoki", E.STREET_ADDRESS, "Harjukuja 54"),
        ("return to ul. Zamkowa 33 please", E.STREET_ADDRESS, "ul. Zamkowa 33"),
    ],
)
def test_true_positives(text: str, entity: E, value: str) -> None:
    assert (entity, value) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Order 123-45-6789 was the textbook example number",  # known fake SSN
        "area 000-12-3456 and 666-12-3456 are never issued",
        "version 3.10.4.1 released; build 20230405 passed",
        "Give 500 mg twice daily for 10 days; BP 120/80; HR 72",
        "Potassium 4.1 mmol/L, sodium 138, creatinine 1.02",
        "Card 4111 1111 1111 1112 fails its check digit",
        "The 80-year-old man walked 95 meters",  # not over 89 as an age
        "Invoice total 1234567890 cents",  # bare digits are not a phone or NPI
        "brown stool noted, no melena",
        "the patient will mark the chart and grant access",
        "Menu 3 and Committee 12 met; see Bureau 5",  # short street words only standalone
        "Transferred to Unit 4 for telemetry",  # a ward, not an address line
    ],
)
def test_false_positives(text: str) -> None:
    assert found(text) == []


def test_restricted_zip3_is_flagged() -> None:
    cands = ANALYZER.candidates("Riverton, WY 82501 and Lebanon, NH 03766 and Hanover, NH 03601")
    zips = {c.notes for c in cands if c.entity is E.ZIP_CODE}
    assert ("restricted-zip3",) in zips


def test_context_raises_confidence() -> None:
    plain = ANALYZER.candidates("code 03/04/1961 in the table")
    tied = ANALYZER.candidates("DOB 03/04/1961")
    assert plain and tied
    assert tied[0].confidence > plain[0].confidence
    assert "dob" in tied[0].context


def test_log_timestamps_are_not_reported_by_default() -> None:
    assert found("2024-03-01 08:00:00 INFO GET /api 200") == []


def test_overlaps_resolved_to_one_reading() -> None:
    cands = ANALYZER.candidates("SSN 219-45-6789")
    assert [(c.entity, c.start, c.end) for c in cands] == [(E.SSN, 4, 15)]


def test_findings_are_masked_and_fingerprinted() -> None:
    text = "Patient SSN 219-45-6789"
    (f,) = analyze(text, entities=[E.SSN], fingerprinter=FP)
    assert f.masked == "***-**-6789"
    assert "219-45" not in repr(f)
    assert f.fingerprint == FP.fingerprint(E.SSN, "219456789")
    assert f.letter == "G"
    assert (f.location.line, f.location.column) == (1, 13)
    assert f.evidence.validator == "ssa-rules"


def test_line_and_column_in_multiline_text() -> None:
    text = "first line\nsecond: jane@example.com\n"
    (f,) = analyze(text, fingerprinter=FP)
    assert (f.location.line, f.location.column) == (2, 9)


def test_entities_filter_and_min_confidence() -> None:
    text = "jane@example.com SSN 219-45-6789"
    only = Analyzer(fingerprinter=FP, entities=[E.EMAIL])
    assert {e for e, _ in found(text, only)} == {E.EMAIL}
    strict = Analyzer(fingerprinter=FP, min_confidence=0.99)
    assert found(text, strict) == []


def test_unicode_text_offsets_are_characters() -> None:
    text = "Notiz für Müller — SSN 219-45-6789 ✓ jane@example.com"
    got = found(text)
    assert (E.SSN, "219-45-6789") in got
    assert (E.EMAIL, "jane@example.com") in got


@pytest.mark.parametrize("backend", available_backends())
def test_backends_agree(backend: str) -> None:
    text = (
        "MRN: 1234567 DOB 03/04/1961 phone 617-253-1000 ip 10.1.2.3 SSN 219-45-6789 "
        "VIN 1HGCM82633A004352 visit https://x.example.org/a"
    )
    ref = PatternEngine(backend="re").scan(text)
    other = PatternEngine(backend=backend).scan(text)
    assert [(c.entity, c.start, c.end) for c in other] == [(c.entity, c.start, c.end) for c in ref]


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown regex backend"):
        PatternEngine(backend="pcre")


def test_hyperscan_path_agrees_with_re2_on_large_text() -> None:
    import phiward.detect._engine as engine

    pytest.importorskip("hyperscan")
    chunk = (
        "Patient John Smith MRN: 1234567 DOB 03/04/1961 phone 617-253-1000 ip 10.1.2.3 "
        "SSN 219-45-6789 VIN 1HGCM82633A004352 https://x.example.org/a Müller café\n"
        "Adresse: 4844 Søndergade 52, 2. sal\n"
        "Plain narrative follows without identifiers, repeated to make the text large.\n"
    )
    text = chunk * (engine.HYPERSCAN_MIN_CHARS // len(chunk) + 5)
    assert len(text) >= engine.HYPERSCAN_MIN_CHARS
    assert engine._hyperscan_db(PatternEngine().recognizers) is not None  # compiled: used now
    fast = ANALYZER.candidates(text)
    slow_engine = PatternEngine(hyperscan=False)
    slow = [c for c in engine.resolve_overlaps(slow_engine.scan(text)) if c.confidence >= 0.5]
    slow_patterns = {(c.entity, c.start, c.end) for c in slow}
    fast_patterns = {(c.entity, c.start, c.end) for c in fast if c.entity is not E.NAME}
    assert fast_patterns == slow_patterns
    # MRN DATE PHONE IP SSN VIN URL and the street
    assert len(fast_patterns) == 8 * (len(text) // len(chunk))


def _small_recognizers() -> tuple[Any, ...]:
    from phiward.detect._recognizers import RECOGNIZERS

    return tuple(r for r in RECOGNIZERS if r.name in {"ssn", "email", "ipv4"})


def test_hyperscan_database_is_cached_on_disk_and_reloaded(tmp_path: Path) -> None:
    import phiward.detect._engine as engine

    pytest.importorskip("hyperscan")
    recs = _small_recognizers()
    assert recs
    key = tuple(r.pattern for r in recs)
    engine._HS_CACHE.pop(key, None)
    compiled = engine._hyperscan_db(recs)
    assert compiled is not None
    path = engine._cache_file(key)
    assert path is not None and path.exists()
    assert path.stat().st_mode & 0o077 == 0  # private to the user
    text = "mail a.b@example.org from 10.1.2.3 re 219-45-6789 " * 60
    expected = [(c.entity, c.start, c.end) for c in engine.PatternEngine(recs).scan(text)]
    engine._HS_CACHE.pop(key)  # a new process: nothing in memory, the file on disk
    loaded = engine._hyperscan_ready(recs)
    assert loaded is not None and loaded is not compiled
    assert [(c.entity, c.start, c.end) for c in engine.PatternEngine(recs).scan(text)] == expected
    assert len(expected) == 3 * 60


def test_corrupt_hyperscan_cache_is_ignored_and_rebuilt() -> None:
    import phiward.detect._engine as engine

    pytest.importorskip("hyperscan")
    recs = _small_recognizers()
    key = tuple(r.pattern for r in recs)
    engine._HS_CACHE.pop(key, None)
    assert engine._hyperscan_db(recs) is not None
    path = engine._cache_file(key)
    assert path is not None
    blob = bytearray(path.read_bytes())
    blob[-100] ^= 0x01  # one flipped bit in the serialized database
    path.write_bytes(bytes(blob))
    engine._HS_CACHE.pop(key)
    assert engine._hyperscan_ready(recs) is None  # refused, not loaded
    assert engine._hyperscan_db(recs) is not None  # recompiled and rewritten
    engine._HS_CACHE.pop(key)
    assert engine._hyperscan_ready(recs) is not None


def test_hyperscan_cache_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import phiward.detect._engine as engine

    pytest.importorskip("hyperscan")
    monkeypatch.setenv("PHIWARD_HYPERSCAN_CACHE", "0")
    recs = _small_recognizers()
    assert engine._cache_file(tuple(r.pattern for r in recs)) is None


def test_hyperscan_scans_from_many_threads_at_once() -> None:
    """Each thread gets its own scratch space; a shared one raises ScratchInUseError."""
    from concurrent.futures import ThreadPoolExecutor

    import phiward.detect._engine as engine

    pytest.importorskip("hyperscan")
    recs = _small_recognizers()
    assert engine._hyperscan_db(recs) is not None
    eng = engine.PatternEngine(recs)
    text = "mail a.b@example.org from 10.1.2.3 re 219-45-6789 " * 2000
    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(lambda _: len(eng.scan(text)), range(32)))
    assert counts == [3 * 2000] * 32
