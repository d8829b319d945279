"""Benchmark of phiward's detection engine (issue 2): throughput and accuracy vs Presidio.

Usage (from the repository root, inside the project venv):

    .venv/bin/pip install presidio-analyzer    # bench-only peer, not a project dependency
    .venv/bin/python bench/scan_bench.py [--patients 200] [--json out.json]

Corpora: (1) the demo generator's clinical notes and logs (``phiward demo-data``), with its
ground truth; (2) ``../shared/data/presidio-research/synth_dataset_v2.json`` (MIT, written by
others; read in place, never copied), when present. Engines: phiward (re2 pass + names), and
Presidio's predefined recognizers without an NLP engine ("patterns-only"). Presidio with spaCy
NER needs an ``en_core_web_*`` model package; the bench runs it only when one is installed.
All throughput numbers are single-process, single-core.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phiward.core.fingerprint import Fingerprinter
from phiward.demo.legacy import generate
from phiward.detect import Analyzer
from phiward.detect._engine import PatternEngine
from phiward.detect._recognizers import RECOGNIZERS

ROOT = Path(__file__).resolve().parent.parent
PRESIDIO_DATA = None
for parent in ROOT.parents:
    candidate = parent / "shared" / "data" / "presidio-research" / "synth_dataset_v2.json"
    if candidate.exists():
        PRESIDIO_DATA = candidate
        break

Span = tuple[int, int, str]  # start, end, canonical type

# Canonical scoring types: each engine's labels are mapped onto these.
PHIWARD_MAP = {
    "NAME": "NAME",
    "STREET_ADDRESS": "ADDRESS",
    "CITY": "CITY",
    "COUNTY": "CITY",
    "ZIP_CODE": "ZIP",
    "DATE": "DATE",
    "AGE_OVER_89": "AGE>89",
    "PHONE": "PHONE",
    "FAX": "PHONE",
    "EMAIL": "EMAIL",
    "SSN": "SSN",
    "MRN": "MRN",
    "HEALTH_PLAN_ID": "HEALTH_PLAN",
    "ACCOUNT_NUMBER": "ACCOUNT",
    "CREDIT_CARD": "CREDIT_CARD",
    "LICENSE_NUMBER": "LICENSE",
    "DEA_NUMBER": "LICENSE",
    "VEHICLE_ID": "VEHICLE",
    "DEVICE_ID": "DEVICE",
    "URL": "URL",
    "IP_ADDRESS": "IP",
    "NPI": "OTHER_ID",
    "OTHER_ID": "OTHER_ID",
}
PRESIDIO_MAP = {
    "PERSON": "NAME",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "US_SSN": "SSN",
    "CREDIT_CARD": "CREDIT_CARD",
    "IP_ADDRESS": "IP",
    "URL": "URL",
    "DATE_TIME": "DATE",
    "US_DRIVER_LICENSE": "LICENSE",
    "MEDICAL_LICENSE": "LICENSE",
    "IBAN_CODE": "ACCOUNT",
    "US_BANK_NUMBER": "ACCOUNT",
    "US_ITIN": "SSN",
    "US_PASSPORT": "OTHER_ID",
    "LOCATION": "CITY",
}
# Labels of the presidio-research corpus.
CORPUS_MAP = {
    "PERSON": "NAME",
    "STREET_ADDRESS": "ADDRESS",
    "GPE": "GPE",
    "CREDIT_CARD": "CREDIT_CARD",
    "DATE_TIME": "DATE",
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "ZIP_CODE": "ZIP",
    "DOMAIN_NAME": "URL",
    "IBAN_CODE": "ACCOUNT",
    "US_SSN": "SSN",
    "IP_ADDRESS": "IP",
    "US_DRIVER_LICENSE": "LICENSE",
    "AGE": "AGE>89",  # only ages over 89 are PHI; younger ones are dropped below
}
_MONTHS = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DATE_PHI = re.compile(rf"\d{{1,4}}[/.-]\d{{1,2}}|(?i:{_MONTHS})\w*\.? \d|\d (?i:{_MONTHS})")
UNSCORED = {"ORGANIZATION", "TITLE", "NRP", "AGE<=89"}
# A finding of the key type may satisfy truth of the value types (addresses are labelled whole
# in the corpus: the street, city and ZIP inside one span).
COMPATIBLE = {
    "ADDRESS": {"ADDRESS", "GPE"},
    "CITY": {"CITY", "GPE", "ADDRESS"},
    "ZIP": {"ZIP", "ADDRESS"},
}
TARGETS = {  # issue 2: recall targets
    "SSN": 0.95,
    "PHONE": 0.95,
    "EMAIL": 0.95,
    "DATE": 0.95,
    "MRN": 0.95,
    "IP": 0.95,
    "URL": 0.95,
    "NAME": 0.90,
    "ADDRESS": 0.90,
}


@dataclass
class Doc:
    text: str
    truth: list[Span]
    ignore: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Tally:
    truth: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)

    def add(self, doc: Doc, preds: Iterable[Span]) -> None:
        preds = list(preds)
        for ts, te, tt in doc.truth:
            self.truth[tt] += 1
            if any(
                ps < te and ts < pe and (pt == tt or tt in COMPATIBLE.get(pt, ()))
                for ps, pe, pt in preds
            ):
                self.found[tt] += 1
        for ps, pe, pt in preds:
            hit = [tt for ts, te, tt in doc.truth if ps < te and ts < pe]
            if any(tt == pt or tt in COMPATIBLE.get(pt, ()) for tt in hit):
                self.tp[pt] += 1
            elif hit or any(ps < ie and is_ < pe for is_, ie in doc.ignore):
                if hit:
                    self.fp[pt] += 1
            else:
                self.fp[pt] += 1

    def rows(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for t in sorted(set(self.truth) | set(self.tp) | set(self.fp)):
            n_pred = self.tp[t] + self.fp[t]
            rec = self.found[t] / self.truth[t] if self.truth[t] else float("nan")
            prec = self.tp[t] / n_pred if n_pred else float("nan")
            f1 = (
                2 * prec * rec / (prec + rec)
                if prec + rec and prec == prec and rec == rec
                else float("nan")
            )
            out[t] = {"truth": self.truth[t], "predicted": n_pred, "precision": prec,
                      "recall": rec, "f1": f1}  # fmt: skip
        tp, fp = sum(self.tp.values()), sum(self.fp.values())
        out["ALL"] = {
            "truth": sum(self.truth.values()),
            "predicted": tp + fp,
            "precision": tp / (tp + fp) if tp + fp else float("nan"),
            "recall": sum(self.found.values()) / max(1, sum(self.truth.values())),
            "f1": float("nan"),
        }
        a = out["ALL"]
        a["f1"] = 2 * a["precision"] * a["recall"] / (a["precision"] + a["recall"])
        return out


# --- corpora --------------------------------------------------------------------------------


def demo_corpus(patients: int) -> tuple[list[Doc], str]:
    """The generator's notes and log (text files), with their planted spans."""
    tmp_dir = tempfile.TemporaryDirectory(prefix="phiward-bench-")
    tmp = Path(tmp_dir.name)
    generate(tmp / "demo", seed=7, patients=patients)
    truth = json.loads((tmp / "demo" / "ground-truth.json").read_text())["identifiers"]
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for t in truth:
        if "start" in t:
            by_file[t["file"]].append(t)
    docs = []
    for rel in sorted(by_file):
        text = (tmp / "demo" / rel).read_text()
        starts = [0]
        for line in text.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        spans = [
            (starts[t["line"] - 1] + t["start"], starts[t["line"] - 1] + t["end"],
             PHIWARD_MAP[t["entity"]])
            for t in by_file[rel]
        ]  # fmt: skip
        docs.append(Doc(text, spans))
    tmp_dir.cleanup()
    return docs, "demo-data notes + log"


def presidio_corpus() -> tuple[list[Doc], str] | None:
    if PRESIDIO_DATA is None:
        return None
    docs = []
    for sample in json.loads(PRESIDIO_DATA.read_text()):
        spans: list[Span] = []
        ignore = []
        for s in sample["spans"]:
            label = s["entity_type"]
            a, b = s["start_position"], s["end_position"]
            if label == "AGE":
                digits = re.findall(r"\d+", s["entity_value"])
                if not digits or int(digits[0]) <= 89:
                    ignore.append((a, b))
                    continue
            if label == "DATE_TIME" and not _DATE_PHI.search(s["entity_value"]):
                # A year, weekday or time alone is not PHI under Safe Harbor (years are kept).
                ignore.append((a, b))
                continue
            if label in CORPUS_MAP:
                spans.append((a, b, CORPUS_MAP[label]))
            else:
                ignore.append((a, b))
        docs.append(Doc(sample["full_text"], spans, ignore))
    return docs, "presidio-research synth_dataset_v2 (1,500 samples)"


# --- engines ----------------------------------------------------------------------------------

Engine = Callable[[str], list[Span]]


def phiward_engine(min_confidence: float = 0.5) -> Engine:
    analyzer = Analyzer(fingerprinter=Fingerprinter(b"b" * 32), min_confidence=min_confidence)

    def run(text: str) -> list[Span]:
        return [(c.start, c.end, PHIWARD_MAP.get(c.entity.value, c.entity.value))
                for c in analyzer.candidates(text)]  # fmt: skip

    return run


def presidio_patterns_engine() -> Engine | None:
    try:
        import tldextract

        # Offline: use the suffix list bundled with tldextract instead of fetching one.
        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
        from presidio_analyzer import predefined_recognizers as pr
    except ImportError:
        return None
    names = ["CreditCardRecognizer", "DateRecognizer", "EmailRecognizer", "IbanRecognizer",
             "IpRecognizer", "MedicalLicenseRecognizer", "PhoneRecognizer", "UrlRecognizer",
             "UsBankRecognizer", "UsLicenseRecognizer", "UsItinRecognizer",
             "UsPassportRecognizer", "UsSsnRecognizer"]  # fmt: skip
    recs = [getattr(pr, n)() for n in names if hasattr(pr, n)]

    def run(text: str) -> list[Span]:
        out = []
        for r in recs:
            for res in r.analyze(text, r.supported_entities, None):
                # Presidio's own default: every result counts (AnalyzerEngine threshold 0).
                if res.entity_type in PRESIDIO_MAP:
                    out.append((res.start, res.end, PRESIDIO_MAP[res.entity_type]))
        return out

    return run


def presidio_ner_engine() -> Engine | None:
    try:
        import spacy

        model = next(m for m in ("en_core_web_lg", "en_core_web_md", "en_core_web_sm")
                     if spacy.util.is_package(m))  # fmt: skip
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except (ImportError, StopIteration):
        return None
    conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    engine = AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=conf).create_engine())

    def run(text: str) -> list[Span]:
        return [(r.start, r.end, PRESIDIO_MAP[r.entity_type]) for r in
                engine.analyze(text, language="en") if r.entity_type in PRESIDIO_MAP
                and r.score >= 0.5]  # fmt: skip

    return run


# --- measurements -----------------------------------------------------------------------------


def throughput(engine: Engine, docs: list[Doc], budget_s: float = 8.0) -> float:
    """Characters per second over the corpus (documents analysed one by one).

    One full pass first, untimed: one-off costs (hyperscan load, lazy imports, re2 filling its
    DFA cache for the inputs it meets) are excluded for every engine alike. Then whole passes
    are timed until ``budget_s / 2`` has elapsed (at least one pass)."""
    t0 = time.perf_counter()
    for doc in docs:
        engine(doc.text)
        if time.perf_counter() - t0 > budget_s:
            break
    total = 0
    t0 = time.perf_counter()
    while True:
        for doc in docs:
            engine(doc.text)
            total += len(doc.text)
            if time.perf_counter() - t0 > budget_s:
                break
        if time.perf_counter() - t0 > budget_s / 2:
            break
    return total / (time.perf_counter() - t0)


def engine_pass(text: str) -> dict[str, float]:
    """MB/s of the bare multi-pattern pass (no validation/context/names) per regex engine."""
    out: dict[str, float] = {}
    data = text.encode()
    for backend in ("re", "re2"):
        eng = PatternEngine(backend=backend, hyperscan=False)
        sample = text if backend == "re2" else text[:2_000_000]
        t0 = time.perf_counter()
        eng.scan(sample)
        out[f"{backend} (scan stage: pass + validation + context)"] = (
            len(sample) / (time.perf_counter() - t0) / 1e6
        )
    eng = PatternEngine()
    chunks = [text[i : i + 256 * 1024] for i in range(0, len(text), 256 * 1024)]
    eng.scan(chunks[0])  # compile the hyperscan database outside the timing
    t0 = time.perf_counter()
    for chunk in chunks:
        eng.scan(chunk)
    out["hyperscan (scan stage, 256 KiB chunks as the scanner reads files)"] = (
        len(text) / (time.perf_counter() - t0) / 1e6
    )
    try:
        import hyperscan
    except ImportError:
        return out
    inner = re.compile(r"\(\?P<\w+>")
    exprs, ids = [], []
    for i, r in enumerate(RECOGNIZERS):
        if r.name == "device_keyword":  # "pattern too large" for hyperscan with SOM tracking
            continue
        exprs.append(inner.sub("(?:", r.pattern).encode())
        ids.append(i)
    db = hyperscan.Database()
    db.compile(expressions=exprs, ids=ids, elements=len(exprs),
               flags=[hyperscan.HS_FLAG_SOM_LEFTMOST] * len(exprs))  # fmt: skip
    hits: list[tuple[int, int, int]] = []

    def on_match(i: int, s: int, e: int, flags: int, ctx: object) -> None:
        hits.append((i, s, e))

    t0 = time.perf_counter()
    db.scan(data, match_event_handler=on_match)
    out["hyperscan (raw pass only, no validation)"] = len(data) / (time.perf_counter() - t0) / 1e6
    return out


def fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("TLDEXTRACT_CACHE", tempfile.mkdtemp())
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {platform.platform()}")  # fmt: skip
    corpora = [demo_corpus(args.patients)]
    pc = presidio_corpus()
    if pc is not None:
        corpora.append(pc)
    engines: dict[str, Engine | None] = {
        "phiward": phiward_engine(),
        "presidio patterns-only": presidio_patterns_engine(),
        "presidio + spaCy NER": presidio_ner_engine(),
    }
    results: dict[str, Any] = {}
    t0 = time.perf_counter()
    from phiward.detect._engine import _cache_file, _hyperscan_db

    recs = PatternEngine().recognizers
    cached = _cache_file(tuple(r.pattern for r in recs))
    how = "loaded from the disk cache" if cached and cached.exists() else "compiled"
    _hyperscan_db(recs)
    print(f"hyperscan database {how} (once per process): {time.perf_counter() - t0:.2f} s")
    for docs, label in corpora:
        chars = sum(len(d.text) for d in docs)
        print(f"\n## corpus: {label} ({len(docs)} documents, {chars:,} chars)")
        results[label] = {}
        speeds = {}
        for name, engine in engines.items():
            if engine is None:
                print(f"- {name}: not available (not installed / no model package)")
                continue
            speeds[name] = throughput(engine, docs)
            tally = Tally()
            for d in docs:
                tally.add(d, engine(d.text))
            rows = tally.rows()
            results[label][name] = {"chars_per_s": speeds[name], "scores": rows}
            print(f"\n### {name}: {speeds[name] / 1e6:.2f} MB/s (one core)")
            print("| type | truth | predicted | precision | recall | F1 | target recall |")
            print("|---|---|---|---|---|---|---|")
            for t, r in rows.items():
                tgt = TARGETS.get(t)
                mark = (
                    ""
                    if tgt is None
                    else (f"{tgt:.2f} " + ("met" if r["recall"] >= tgt else "MISSED"))
                )
                cells = [t, str(int(r["truth"])), str(int(r["predicted"])), fmt(r["precision"]),
                         fmt(r["recall"]), fmt(r["f1"]), mark]  # fmt: skip
                print("| " + " | ".join(cells) + " |")
        if "presidio patterns-only" in speeds:
            ratio = speeds["phiward"] / speeds["presidio patterns-only"]
            print(f"\nphiward / presidio patterns-only throughput: {ratio:.1f}x")
            results[label]["ratio_vs_presidio_patterns"] = ratio
    from phiward.demo import legacy as demo_mod

    narrative = " ".join(demo_mod._COURSE + demo_mod._EXAM) + "\n"
    narrative_docs = [Doc(narrative * 4, [])] * 300
    print("\n## clinical narrative without identifiers (throughput only, one core)")
    for name, engine in engines.items():
        if engine is not None:
            speed = throughput(engine, narrative_docs)
            results.setdefault("narrative_chars_per_s", {})[name] = speed
            print(f"- {name}: {speed / 1e6:.2f} MB/s")
    text = "".join(d.text for d in corpora[0][0])
    text = text * max(1, 4_000_000 // len(text))
    passes = engine_pass(text)
    print("\n## pattern stage alone by regex engine (demo notes, one core)")
    for k, v in passes.items():
        print(f"- {k}: {v:.1f} MB/s")
    results["engine_pass_mb_s"] = passes
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    main()
