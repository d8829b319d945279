"""Where the detection engine spends its time: cProfile over the bench corpora.

Usage (from the repository root, inside the project venv):

    .venv/bin/python bench/scan_profile.py [--patients 50] [--top 25] [--sort tottime]
        [--corpus demo|narrative|presidio|all] [--findings]

Runs ``Analyzer.candidates`` (what ``bench/scan_bench.py`` times) over each corpus once untimed
(Hyperscan database load, re2's DFA caches), then under cProfile, and prints the top functions.
``--findings`` profiles ``Analyzer.analyze`` instead (masking and fingerprints included). The
corpora are the same as the bench's: the demo generator's notes and log, the clinical narrative
without identifiers, and the presidio-research samples when present. Only function names and
timings are printed, never text from the corpora.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from phiward.core.fingerprint import Fingerprinter
from phiward.demo import legacy as demo_mod
from phiward.detect import Analyzer

ROOT = Path(__file__).resolve().parent.parent


def _presidio_file() -> Path | None:
    for parent in ROOT.parents:
        candidate = parent / "shared" / "data" / "presidio-research" / "synth_dataset_v2.json"
        if candidate.exists():
            return candidate
    return None


def demo_texts(patients: int) -> list[str]:
    """The generator's text files that carry planted identifiers (notes and the log)."""
    with tempfile.TemporaryDirectory(prefix="phiward-profile-") as tmp:
        out = Path(tmp) / "demo"
        demo_mod.generate(out, seed=7, patients=patients)
        truth = json.loads((out / "ground-truth.json").read_text())["identifiers"]
        files = sorted({t["file"] for t in truth if "start" in t})
        return [(out / rel).read_text() for rel in files]


def narrative_texts() -> list[str]:
    narrative = " ".join(demo_mod._COURSE + demo_mod._EXAM) + "\n"
    return [narrative * 4] * 300


def presidio_texts() -> list[str]:
    path = _presidio_file()
    if path is None:
        return []
    return [s["full_text"] for s in json.loads(path.read_text())]


def profile(
    label: str, texts: list[str], run: Callable[[str], object], top: int, sort: str
) -> None:
    if not texts:
        print(f"\n## {label}: corpus not available")
        return
    chars = sum(len(t) for t in texts)
    for t in texts:  # warm-up: one-off costs are not what this looks for
        run(t)
    t0 = time.perf_counter()
    for t in texts:
        run(t)
    plain = time.perf_counter() - t0
    prof = cProfile.Profile()
    prof.enable()
    for t in texts:
        run(t)
    prof.disable()
    print(f"\n## {label}: {len(texts)} texts, {chars:,} chars, {chars / plain / 1e6:.2f} MB/s "
          "without the profiler (one core)")  # fmt: skip
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats(sort).print_stats(top)
    lines = buf.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    print("\n".join(line.replace(str(ROOT) + "/", "") for line in lines[start:] if line.strip()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=50)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--sort", default="tottime", choices=["tottime", "cumulative", "ncalls"])
    ap.add_argument("--corpus", default="all", choices=["all", "demo", "narrative", "presidio"])
    ap.add_argument("--findings", action="store_true", help="profile analyze(), not candidates()")
    args = ap.parse_args()
    analyzer = Analyzer(fingerprinter=Fingerprinter(b"p" * 32), min_confidence=0.5)
    run: Callable[[str], object] = analyzer.analyze if args.findings else analyzer.candidates
    corpora: dict[str, Callable[[], list[str]]] = {
        "demo": lambda: demo_texts(args.patients),
        "narrative": narrative_texts,
        "presidio": presidio_texts,
    }
    for name, load in corpora.items():
        if args.corpus in ("all", name):
            profile(name, load(), run, args.top, args.sort)


if __name__ == "__main__":
    sys.exit(main())
