"""All-or-nothing file writes: a temp file in the same folder, fsync, rename, fsync the folder.

Reports, keys, encrypted outputs, checkpoints and caches are written this way so that a crash or
a full disk never leaves a half-written file under the real name, and a failed write never
leaves its temp file behind. New files are private (0600) unless a mode says otherwise.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (best effort: some filesystems refuse directory fds)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_output(path: Path, mode: int = 0o600) -> Iterator[IO[bytes]]:
    """Write ``path`` all-or-nothing through the yielded binary handle.

    If the body raises, the temp file is removed, so no partial output (a partial plaintext, a
    truncated report) is ever left behind.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` with :func:`atomic_output`."""
    with atomic_output(path, mode) as out:
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
