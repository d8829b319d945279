"""Column headers as evidence: a cell under ``SSN`` or ``date_of_birth`` is probably that entity.

Used by the tabular readers (XLSX, Parquet, DOCX tables). The hint is weaker than HL7 or FHIR
structure (headers are free-form and sometimes wrong), so it carries a moderate confidence and the
text engine still runs over the cell.
"""

from __future__ import annotations

import re
from functools import lru_cache

from phiward.core.entities import EntityType as E

COLUMN_CONFIDENCE = 0.75

_NORMALISE = re.compile(r"[^a-z0-9]+")

#: normalised header (lowercase, no separators) -> entity
COLUMN_ENTITIES: dict[str, E] = {
    **dict.fromkeys(
        ["ssn", "socialsecuritynumber", "socialsecurity", "socsecno", "ssnumber", "patientssn"],
        E.SSN,
    ),
    **dict.fromkeys(
        ["mrn", "medicalrecordnumber", "medicalrecordno", "patientid", "patientmrn", "chartnumber"],
        E.MRN,
    ),
    **dict.fromkeys(
        ["dob", "dateofbirth", "birthdate", "birthdt", "patientdob", "dateofdeath", "deathdate"],
        E.DATE,
    ),
    **dict.fromkeys(
        [
            "name",
            "patientname",
            "fullname",
            "firstname",
            "lastname",
            "givenname",
            "familyname",
            "surname",
            "middlename",
            "mothersmaidenname",
            "guarantorname",
            "nextofkin",
        ],
        E.NAME,
    ),
    **dict.fromkeys(
        ["phone", "phonenumber", "telephone", "homephone", "mobile", "cellphone", "workphone"],
        E.PHONE,
    ),
    **dict.fromkeys(["fax", "faxnumber"], E.FAX),
    **dict.fromkeys(["email", "emailaddress", "mail"], E.EMAIL),
    **dict.fromkeys(
        [
            "address",
            "streetaddress",
            "street",
            "address1",
            "address2",
            "addressline1",
            "addressline2",
            "homeaddress",
            "addressstreet",
        ],
        E.STREET_ADDRESS,
    ),
    **dict.fromkeys(["city", "town", "addresscity"], E.CITY),
    **dict.fromkeys(["county", "addresscounty"], E.COUNTY),
    **dict.fromkeys(["zip", "zipcode", "postalcode", "postcode", "addresszip"], E.ZIP_CODE),
    **dict.fromkeys(
        [
            "memberid",
            "subscriberid",
            "healthplanid",
            "insuranceid",
            "policynumber",
            "medicaidid",
            "medicareid",
            "mbi",
        ],
        E.HEALTH_PLAN_ID,
    ),
    **dict.fromkeys(["accountnumber", "accountno", "acctno", "account"], E.ACCOUNT_NUMBER),
    **dict.fromkeys(["driverslicense", "dlnumber", "licensenumber"], E.LICENSE_NUMBER),
    **dict.fromkeys(["ipaddress", "ip", "clientip"], E.IP_ADDRESS),
    **dict.fromkeys(["deviceserial", "serialnumber", "deviceid"], E.DEVICE_ID),
    **dict.fromkeys(["npi"], E.NPI),
}


@lru_cache(maxsize=4096)
def column_hint(name: str | None) -> E | None:
    """The entity a column header names, or None. ``address.city`` looks at ``city``."""
    if not name:
        return None
    key = _NORMALISE.sub("", name.lower())
    found = COLUMN_ENTITIES.get(key)
    if found is None and ("." in name or "[" in name):
        tail = re.split(r"[.\[\]]+", name.strip(".[]"))[-1]
        found = COLUMN_ENTITIES.get(_NORMALISE.sub("", tail.lower()))
    return found
