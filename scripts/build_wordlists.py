"""Rebuild phiward's shipped name lists (src/phiward/detect/data/*.txt.gz).

Inputs (pass their directories):
- the US Census Bureau 1990 name files ``dist.male.first``, ``dist.female.first``, ``dist.all.last``
  (US Government work, public domain), as redistributed by the PyPI package ``names`` 0.3.0;
- Webster's Second International word list ``web2`` (public domain), as redistributed by the PyPI
  package ``english-words`` 2.0.2 (``data/web2.pickle``), shipped (lower-case alphabetic entries)
  so that a run of capitalised words none of which is English can be told from a Title Case
  phrase (``Olga Krylova`` vs ``Chest Pain``);
- SCOWL's size-50 American English list (Kevin Atkinson; permissive licence, notice in
  ``src/phiward/detect/data/NOTICE``), as shipped by Debian's ``wamerican`` 2020.12.07-2
  (``/usr/share/dict/american-english``): a name is marked as an ordinary word (``Brown``,
  ``May``, ``Hope``, ``Heather``) only when its lower-case form is in web2 and in this list of
  common words.
  web2 alone holds 1934's whole vocabulary, where ``mary``, ``anna``, ``emma`` and ``kelly`` are
  words too, and names that common then needed a context word to count. Such names are also
  left out of the shipped English list.

Usage: python scripts/build_wordlists.py NAMES_DIR ENGLISH_WORDS_DATA_DIR SCOWL_LIST
"""

from __future__ import annotations

import gzip
import pickle
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "phiward" / "detect" / "data"


_KEEP_AS_WORDS = frozenset({"german", "dutch", "swiss", "turk", "easter", "mac", "ave"})


def census(path: Path) -> list[str]:
    return [line.split()[0].capitalize() for line in path.read_text().splitlines() if line.strip()]


def write(name: str, words: list[str]) -> None:
    data = ("\n".join(words) + "\n").encode()
    # mtime=0 keeps the file byte-for-byte reproducible.
    with gzip.GzipFile(OUT / name, "wb", mtime=0) as fh:
        fh.write(data)


def main() -> None:
    names_dir, words_dir, scowl = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    first = census(names_dir / "dist.male.first") + census(names_dir / "dist.female.first")
    last = census(names_dir / "dist.all.last")
    with (words_dir / "web2.pickle").open("rb") as fh:
        web2 = pickle.load(fh)  # noqa: S301 - a build-time input from a known package
    lower_words = {w for w in web2 if w.islower()}
    # SCOWL's file is Latin-1; its lower-case entries are the common words
    common_words = {w for w in scowl.read_text(encoding="latin-1").split() if w.islower()}
    first_u = sorted(set(first))
    last_u = list(dict.fromkeys(last))  # frequency order kept
    names = {n.lower() for n in (*first_u, *last_u)}
    # Names that stay words whatever SCOWL says: two letters (chemical symbols and abbreviations:
    # Na, Fe, Li, Al), nationality or holiday words SCOWL lists only capitalised, the computer
    # and the street abbreviation.
    keep = {w for w in names if len(w) <= 2} | _KEEP_AS_WORDS
    rare = {w for w in names if w in lower_words and w not in common_words and w not in keep}
    common = sorted({n for n in (*first_u, *last_u) if n.lower() in lower_words - rare})
    write("first_names.txt.gz", first_u)
    write("surnames.txt.gz", last_u)
    write("name_words.txt.gz", common)
    english = sorted(w for w in lower_words - rare if w.isalpha())
    write("english_words.txt.gz", english)
    print(len(first_u), len(last_u), len(common), len(english))


if __name__ == "__main__":
    main()
