"""Files phiward (or any AWS Encryption SDK client) encrypted: the protected state, not an error.

The AWS Encryption SDK message format starts with its version and algorithm suite: ``02`` then
suite ``0x0478``/``0x0578`` (v2, committing suites), or ``01 80`` then a v1 suite id. Nothing past
the header is read: there is no plaintext to scan, and that is the point.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from phiward.errors import InputError
from phiward.formats._base import TextUnit
from phiward.formats._limits import BudgetedReader, encrypted

V1_SUITES = frozenset({0x0014, 0x0046, 0x0078, 0x0114, 0x0146, 0x0178, 0x0214, 0x0346, 0x0378})
V2_SUITES = frozenset({0x0478, 0x0578})


def is_esdk_message(head: bytes) -> bool:
    """True when ``head`` starts an AWS Encryption SDK message (v1 or v2 header)."""
    if len(head) >= 3 and head[0] == 0x02:
        return int.from_bytes(head[1:3], "big") in V2_SUITES
    if len(head) >= 4 and head[:2] == b"\x01\x80":
        return int.from_bytes(head[2:4], "big") in V1_SUITES
    return False


class EncryptedEnvelopeReader(BudgetedReader):
    """phiward / AWS Encryption SDK messages: one ``encrypted`` unit."""

    name = "encrypted-envelope"

    def sniff(self, head: bytes, filename: str) -> bool:
        return is_esdk_message(head)

    def _units(self, stream: BinaryIO, filename: str) -> Iterator[TextUnit]:
        if not is_esdk_message(stream.read(4)):
            raise InputError("encrypted envelope: not an AWS Encryption SDK message header")
        yield encrypted(None, "")
