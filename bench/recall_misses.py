"""Dev tool (issue 2): NAME / ADDRESS misses and false positives on the presidio-research corpus.

Usage (from the repository root, inside the project venv):

    .venv/bin/python bench/recall_misses.py                 # accuracy: all, even, odd halves, demo
    .venv/bin/python bench/recall_misses.py --list --half even --type NAME   # spans, masked
    .venv/bin/python bench/recall_misses.py --list --raw    # spans as written (terminal only)

The corpus (``../shared/data/presidio-research/synth_dataset_v2.json``, MIT, written by others)
is read in place and never copied. Rules are fitted on the even-indexed samples and checked on
the odd ones (``--half``), so a rule that only matches the corpus's Faker templates shows up as
a gap between the halves. Listed spans are masked (letters ``x``, digits ``0``) unless ``--raw``
is given; never paste ``--raw`` output into the repository.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_bench import (
    COMPATIBLE,
    Doc,
    Tally,
    demo_corpus,
    fmt,
    phiward_engine,
    presidio_corpus,
)

TYPES = ("NAME", "ADDRESS")


def _mask(s: str) -> str:
    return re.sub(r"\d", "0", re.sub(r"[^\W\d_]", "x", s))


def _half(docs: list[Doc], half: str) -> list[Doc]:
    if half == "even":
        return docs[0::2]
    if half == "odd":
        return docs[1::2]
    return docs


def _score(docs: list[Doc], run: object) -> dict[str, dict[str, float]]:
    tally = Tally()
    for d in docs:
        tally.add(d, run(d.text))  # type: ignore[operator]
    return tally.rows()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", action="store_true", help="list missed and false-positive spans")
    ap.add_argument("--raw", action="store_true", help="show spans unmasked (terminal only)")
    ap.add_argument("--half", choices=("all", "even", "odd"), default="all")
    ap.add_argument("--type", choices=TYPES, default=None)
    ap.add_argument("--no-demo", action="store_true")
    args = ap.parse_args()
    pc = presidio_corpus()
    if pc is None:
        sys.exit("presidio-research corpus not found under ../shared/data")
    docs = pc[0]
    run = phiward_engine()
    if args.list:
        show = (lambda s: s) if args.raw else _mask
        types = (args.type,) if args.type else TYPES
        base = 0 if args.half in ("all", "even") else 1
        step = 1 if args.half == "all" else 2
        for k, d in enumerate(_half(docs, args.half)):
            idx = base + k * step
            preds = run(d.text)
            for ts, te, tt in d.truth:
                if tt in types and not any(ps < te and ts < pe for ps, pe, _ in preds):
                    print(f"MISS {tt} #{idx}: {show(d.text[ts:te])!r}  in  {show(d.text)!r}")
            for ps, pe, pt in preds:
                if pt not in types and not (pt == "CITY" and "ADDRESS" in types):
                    continue
                hit = [tt for ts, te, tt in d.truth if ps < te and ts < pe]
                if any(h == pt or h in COMPATIBLE.get(pt, ()) for h in hit):
                    continue
                if not hit and any(ps < ie and i_ < pe for i_, ie in d.ignore):
                    continue
                print(f"FP {pt} #{idx} (truth {hit}): {show(d.text[ps:pe])!r}  in  "
                      f"{show(d.text)!r}")  # fmt: skip
        return
    print("| corpus | type | truth | predicted | precision | recall |")
    print("|---|---|---|---|---|---|")
    sets = [(f"presidio {h}", _half(docs, h)) for h in ("all", "even", "odd")]
    if not args.no_demo:
        sets.append(("demo", demo_corpus(200)[0]))
    for label, ds in sets:
        rows = _score(ds, run)
        for t in (*TYPES, "ALL"):
            r = rows.get(t)
            if r is None:
                continue
            print(f"| {label} | {t} | {int(r['truth'])} | {int(r['predicted'])} | "
                  f"{fmt(r['precision'])} | {fmt(r['recall'])} |")  # fmt: skip


if __name__ == "__main__":
    main()
