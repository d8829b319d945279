"""Walking the inputs: files under the given paths minus excludes and ``.phiwardignore`` rules.

Ignore files use the ``.gitignore`` syntax that teams already know: ``#`` comments, ``!`` to
re-include, a trailing ``/`` for directories only, a leading ``/`` (or any inner ``/``) to anchor a
pattern to the ignore file's folder, ``*``, ``?``, ``[...]`` and ``**`` across folders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

IGNORE_FILE = ".phiwardignore"
# Never worth scanning: version control and tool caches.
DEFAULT_EXCLUDES = (".git/", ".hg/", ".svn/", "__pycache__/", ".mypy_cache/", ".ruff_cache/")


@dataclass(frozen=True, slots=True)
class _Rule:
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def _translate(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            if glob[i : i + 3] == "**/":
                out.append("(?:.*/)?")
                i += 3
                continue
            if glob[i : i + 2] == "**":
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = glob.find("]", i + 1)
            if j == -1 or glob[i + 1 : j] in ("", "!"):  # "[" with no set after it: literal
                out.append(re.escape(c))
            else:
                body = glob[i + 1 : j].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse_rules(lines: Iterable[str]) -> list[_Rule]:
    """Compile ``.gitignore``-style lines into rules (last match wins)."""
    rules: list[_Rule] = []
    for raw in lines:
        line = raw.rstrip("\n").rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        line = line.lstrip("/")
        body = _translate(line)
        prefix = "^" if anchored else "^(?:.*/)?"
        try:
            pattern = re.compile(prefix + body + "$")
        except re.error:  # a malformed set ("[z-a]"): match the rule's text literally
            pattern = re.compile(prefix + re.escape(line) + "$")
        rules.append(_Rule(pattern, negate, dir_only))
    return rules


class IgnoreMatcher:
    """Decides whether a path (relative to a scan root, ``/``-separated) is excluded."""

    def __init__(self, rules: list[_Rule]) -> None:
        self.rules = rules

    @classmethod
    def for_root(cls, root: Path, excludes: Iterable[str] = ()) -> IgnoreMatcher:
        lines = [*DEFAULT_EXCLUDES, *excludes]
        ignore = root / IGNORE_FILE if root.is_dir() else root.parent / IGNORE_FILE
        if ignore.is_file():
            lines.extend(ignore.read_text(encoding="utf-8", errors="replace").splitlines())
        return cls(parse_rules(lines))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        result = False
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(rel):
                result = not rule.negate
        return result


def display_path(path: Path) -> str:
    """``path`` as reports show it: a name that is not valid UTF-8 (the file system allows any
    bytes) shows its odd bytes as ``\\xe9`` escapes instead of breaking every UTF-8 report."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def iter_files(paths: Iterable[Path], excludes: Iterable[str] = ()) -> Iterator[tuple[Path, str]]:
    """``(path, display name)`` for every file to scan, in a stable (sorted) order.

    Symbolic links are not followed (a link can point outside the tree or loop); a missing path
    raises ``FileNotFoundError`` for the caller to report.
    """
    excludes = tuple(excludes)
    for root in paths:
        if not root.exists() and not root.is_symlink():
            raise FileNotFoundError(str(root))
        matcher = IgnoreMatcher.for_root(root, excludes)
        if root.is_file():
            if not matcher.ignored(root.name, False):
                yield root, display_path(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            here = Path(dirpath)
            rel_dir = here.relative_to(root).as_posix()
            rel_dir = "" if rel_dir == "." else rel_dir + "/"
            keep = []
            for d in sorted(dirnames):
                if (here / d).is_symlink() or matcher.ignored(rel_dir + d, True):
                    continue
                keep.append(d)
            dirnames[:] = keep
            for f in sorted(filenames):
                p = here / f
                if p.is_symlink() or f == IGNORE_FILE:
                    continue
                if matcher.ignored(rel_dir + f, False):
                    continue
                yield p, display_path(p)
