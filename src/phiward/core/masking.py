"""Masked previews: enough shape for a person to recognise *what kind* of value sits somewhere,
never enough to recover it.

Rules (by entity type):
- numbers (SSN, phone, MRN, card, account, ...): separators kept, every alphanumeric replaced by
  ``*`` except the last four when the value has at least ten of them (last two from six), so
  ``123-45-6789`` becomes ``***-**-6789``;
- names, cities, counties: the first letter of each word, ``J*** S****``;
- e-mail: first letter of the local part and the top-level domain, ``j***@*******.com``;
- dates: every digit and letter masked except a four-digit year (the year is not PHI under Safe
  Harbor), ``**/**/1961``;
- IP addresses: the first octet or hextet only; URLs: the scheme only;
- anything else: every alphanumeric masked.
"""

from __future__ import annotations

import re

from phiward.core.entities import EntityType

_STAR = "*"
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
# In str patterns ``\w`` is ``str.isalnum()`` plus ``_``, so ``[^\W_]`` is exactly isalnum().
_ALNUM = re.compile(r"[^\W_]")

_NUMBER_TYPES = frozenset(
    {
        EntityType.SSN,
        EntityType.PHONE,
        EntityType.FAX,
        EntityType.MRN,
        EntityType.HEALTH_PLAN_ID,
        EntityType.ACCOUNT_NUMBER,
        EntityType.CREDIT_CARD,
        EntityType.LICENSE_NUMBER,
        EntityType.DEA_NUMBER,
        EntityType.VEHICLE_ID,
        EntityType.DEVICE_ID,
        EntityType.NPI,
        EntityType.OTHER_ID,
    }
)
_WORD_TYPES = frozenset({EntityType.NAME, EntityType.CITY, EntityType.COUNTY})


def _mask_tail(value: str, keep: int) -> str:
    return _mask_first(value, sum(map(str.isalnum, value)) - keep)


def _mask_first(value: str, n: int) -> str:
    """The first ``n`` alphanumerics masked (``re.sub`` with a count, in C)."""
    return _ALNUM.sub(_STAR, value, count=n) if n > 0 else value


def _mask_number(value: str) -> str:
    n = sum(map(str.isalnum, value))
    keep = 4 if n >= 10 else 2 if n >= 6 else 0
    # SSNs are conventionally shown with their last four even though they have nine digits.
    if n == 9 and "-" in value:
        keep = 4
    return _mask_first(value, n - keep)


def _mask_words(value: str) -> str:
    out: list[str] = []
    first = True
    for ch in value:
        if ch.isalnum():
            out.append(ch if first else _STAR)
            first = False
        else:
            out.append(ch)
            first = True
    return "".join(out)


def _mask_all(value: str) -> str:
    return _ALNUM.sub(_STAR, value)


def _mask_email(value: str) -> str:
    local, sep, domain = value.rpartition("@")
    if not sep:
        return _mask_all(value)
    head = local[:1] + _STAR * max(len(local) - 1, 2)
    host, dot, tld = domain.rpartition(".")
    masked_domain = (_STAR * len(host) + dot + tld) if dot else _STAR * len(domain)
    return f"{head}@{masked_domain}"


def _mask_date(value: str) -> str:
    out: list[str] = []
    at = 0
    for m in _YEAR.finditer(value):
        out.append(_ALNUM.sub(_STAR, value[at : m.start()]))
        out.append(m.group())
        at = m.end()
    out.append(_ALNUM.sub(_STAR, value[at:]))
    return "".join(out)


def _mask_ip(value: str) -> str:
    sep = "." if "." in value else ":"
    parts = value.split(sep)
    return sep.join([parts[0], *(_STAR * (1 if p else 0) for p in parts[1:])])


def _mask_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep:
        return _mask_all(value)
    return f"{scheme}://" + _mask_all(rest)


def mask(value: str, entity: EntityType | None = None) -> str:
    """Return a masked preview of ``value`` suited to its entity type."""
    if not value:
        return ""
    if entity in _NUMBER_TYPES:
        return _mask_number(value)
    if entity in _WORD_TYPES:
        return _mask_words(value)
    if entity is EntityType.EMAIL:
        return _mask_email(value)
    if entity is EntityType.DATE:
        return _mask_date(value)
    if entity is EntityType.IP_ADDRESS:
        return _mask_ip(value)
    if entity is EntityType.URL:
        return _mask_url(value)
    if entity is EntityType.STREET_ADDRESS:
        return _mask_words(_mask_all_digits(value))
    if entity is EntityType.ZIP_CODE:
        return _mask_tail(value, 0)
    return _mask_all(value)


def _mask_all_digits(value: str) -> str:
    return "".join(_STAR if ch.isdigit() else ch for ch in value)
