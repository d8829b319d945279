"""Dump every finding over the bench corpora, to check that a speed change alters none of them.

Usage (from the repository root, inside the project venv):

    .venv/bin/python bench/names_identity.py OUT.txt [--patients 200] [--min-confidence 0.5]
    cmp before.txt after.txt

Writes, for each corpus text, every ``Analyzer.analyze`` finding (entity, start, end, score,
evidence) and every raw ``find_names`` hit (start, end, confidence, rule, context words), then
prints the dump's SHA-256 and counts. The corpora are the bench's (demo notes and log, the clinical
narrative, the presidio-research samples when present) plus case variants of each (upper, lower,
title case, swapped case), which send text down the names pass's rarer paths. With
``--min-confidence`` it also dumps an Analyzer's findings at that floor, which the names pass
is told (the bench runs at 0.5). The dump holds
offsets, scores and rule names only, never text from the corpora; nothing is printed but counts.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from phiward.core.fingerprint import Fingerprinter
from phiward.detect import Analyzer
from phiward.detect._names import find_names
from scan_profile import demo_texts, narrative_texts, presidio_texts  # this script's folder


def _variants(texts: list[str]) -> list[str]:
    out: list[str] = []
    for t in texts:
        out.extend((t.upper(), t.lower(), t.title(), t.swapcase()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--patients", type=int, default=200)
    ap.add_argument(
        "--min-confidence",
        type=float,
        action="append",
        default=[],
        help="also dump an Analyzer's findings at this floor (repeatable; the bench uses 0.5)",
    )
    args = ap.parse_args()
    analyzer = Analyzer(fingerprinter=Fingerprinter(b"i" * 32), min_confidence=0.0)
    floors = [
        (m, Analyzer(fingerprinter=Fingerprinter(b"i" * 32), min_confidence=m))
        for m in args.min_confidence
    ]
    demo = demo_texts(args.patients)
    narrative = narrative_texts()[:1]
    presidio = presidio_texts()
    corpora = {
        "demo": demo,
        "narrative": narrative,
        "presidio": presidio,
        "demo-case": _variants(demo),
        "narrative-case": _variants(narrative),
        "presidio-case": _variants(presidio),
    }
    lines: list[str] = []
    counts: dict[str, tuple[int, int, int]] = {}
    for name, texts in corpora.items():
        nf = nh = 0
        for k, text in enumerate(texts):
            lines.append(f"# {name} {k}")
            for f in analyzer.analyze(text):
                ev = f.evidence
                lines.append(
                    f"F {f.entity.value} {f.location.start} {f.location.end} {f.confidence!r} "
                    f"{ev.recognizer} {ev.validator} {','.join(ev.context)} {ev.structure} "
                    f"{','.join(ev.notes)}"
                )
                nf += 1
            for h in find_names(text):
                lines.append(f"N {h.start} {h.end} {h.confidence!r} {h.rule} {','.join(h.context)}")
                nh += 1
            for m, floored in floors:  # the names pass is told the floor: it may skip work
                lines.extend(
                    f"F@{m} {f.entity.value} {f.location.start} {f.location.end} "
                    f"{f.confidence!r} {f.evidence.recognizer} {','.join(f.evidence.context)}"
                    for f in floored.analyze(text)
                )
        counts[name] = (len(texts), nf, nh)
    data = ("\n".join(lines) + "\n").encode()
    args.out.write_bytes(data)
    for name, (nt, nf, nh) in counts.items():
        print(f"{name}: {nt} texts, {nf} findings, {nh} name hits")
    print(f"sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
