"""Checkpoints kept outside the database, so deleting or truncating the database shows.

``DirectorySink`` writes one file per signed head (atomic rename, fsync). ``S3Sink`` puts one
object per head and, when the bucket has Object Lock enabled, sets a COMPLIANCE retention so not
even the account root can delete it before the retention date.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from phiward.errors import AuditError

_NAME = re.compile(r"checkpoint-(\d{20})\.txt$")


class CheckpointSink(Protocol):
    """Somewhere signed checkpoints are exported to and read back from."""

    def put(self, size: int, note: str) -> None: ...

    def latest(self) -> str | None: ...

    def describe(self) -> str: ...


class DirectorySink:
    """A folder of ``checkpoint-<size>.txt`` files (point it at WORM or backed-up storage)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def describe(self) -> str:
        return f"directory {self.folder}"

    def put(self, size: int, note: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.folder / f"checkpoint-{size:020d}.txt"
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".checkpoint-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(note)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dfd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def latest(self) -> str | None:
        if not self.folder.is_dir():
            return None
        found = sorted(p for p in self.folder.iterdir() if _NAME.match(p.name))
        return found[-1].read_text(encoding="utf-8") if found else None


class S3Sink:
    """``s3://bucket/prefix/checkpoint-<size>.txt``, with Object Lock retention when available."""

    def __init__(
        self, bucket: str, prefix: str = "", *, retention_days: int = 2190, client: Any = None
    ) -> None:
        if client is None:
            try:
                import boto3  # noqa: PLC0415 - the [aws] extra is optional
            except ImportError as exc:
                raise AuditError("S3 checkpoints need the [aws] extra (boto3)") from exc
            client = boto3.client("s3")
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.retention_days = retention_days
        self._locked: bool | None = None

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _object_lock(self) -> bool:
        if self._locked is None:
            try:
                conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
                enabled = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
                self._locked = enabled == "Enabled"
            except self.client.exceptions.ClientError:
                self._locked = False
        return self._locked

    def put(self, size: int, note: str) -> None:
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": f"{self.prefix}checkpoint-{size:020d}.txt",
            "Body": note.encode(),
            "ContentType": "text/plain; charset=utf-8",
        }
        if self._object_lock():
            args["ObjectLockMode"] = "COMPLIANCE"
            args["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(
                days=self.retention_days
            )
        try:
            self.client.put_object(**args)
        except Exception as exc:
            raise AuditError(f"cannot export checkpoint to {self.describe()}: {exc}") from exc

    def latest(self) -> str | None:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                keys.extend(o["Key"] for o in page.get("Contents", []) if _NAME.search(o["Key"]))
        except Exception as exc:
            raise AuditError(f"cannot read checkpoints from {self.describe()}: {exc}") from exc
        if not keys:
            return None
        body = self.client.get_object(Bucket=self.bucket, Key=max(keys))["Body"].read()
        return str(body.decode("utf-8"))
