"""The identifiers phiward looks for, each tied to its HIPAA Safe Harbor letter.

45 CFR 164.514(b)(2)(i) lists eighteen kinds of identifiers, (A) to (R), that must be removed for
data to count as de-identified under the Safe Harbor method. phiward's entity types are finer than
the letters (a driver's licence and a DEA number are both (K)); each type names its letter so every
finding can be cited against the regulation.
"""

from __future__ import annotations

from enum import Enum, StrEnum


class SafeHarbor(Enum):
    """The eighteen identifier categories of 45 CFR 164.514(b)(2)(i)."""

    A = "Names"
    B = "Geographic subdivisions smaller than a state"
    C = "Dates (except year) related to an individual; ages over 89"
    D = "Telephone numbers"
    E = "Fax numbers"
    F = "Electronic mail addresses"
    G = "Social security numbers"
    H = "Medical record numbers"
    I = "Health plan beneficiary numbers"  # noqa: E741 - the regulation's own letter
    J = "Account numbers"
    K = "Certificate/license numbers"
    L = "Vehicle identifiers and serial numbers, including license plate numbers"
    M = "Device identifiers and serial numbers"
    N = "Web Universal Resource Locators (URLs)"
    O = "Internet Protocol (IP) address numbers"  # noqa: E741 - the regulation's own letter
    P = "Biometric identifiers, including finger and voice prints"
    Q = "Full face photographic images and any comparable images"
    R = "Any other unique identifying number, characteristic, or code"

    @property
    def citation(self) -> str:
        """The paragraph citation, e.g. ``45 CFR 164.514(b)(2)(i)(G)``."""
        return f"45 CFR 164.514(b)(2)(i)({self.name})"


class EntityType(StrEnum):
    """A kind of identifier phiward detects. The value is the stable, machine-readable name."""

    NAME = "NAME"
    STREET_ADDRESS = "STREET_ADDRESS"
    CITY = "CITY"
    COUNTY = "COUNTY"
    ZIP_CODE = "ZIP_CODE"
    DATE = "DATE"
    AGE_OVER_89 = "AGE_OVER_89"
    PHONE = "PHONE"
    FAX = "FAX"
    EMAIL = "EMAIL"
    SSN = "SSN"
    MRN = "MRN"
    HEALTH_PLAN_ID = "HEALTH_PLAN_ID"
    ACCOUNT_NUMBER = "ACCOUNT_NUMBER"
    CREDIT_CARD = "CREDIT_CARD"
    LICENSE_NUMBER = "LICENSE_NUMBER"
    DEA_NUMBER = "DEA_NUMBER"
    VEHICLE_ID = "VEHICLE_ID"
    DEVICE_ID = "DEVICE_ID"
    URL = "URL"
    IP_ADDRESS = "IP_ADDRESS"
    BIOMETRIC = "BIOMETRIC"
    PHOTO = "PHOTO"
    NPI = "NPI"
    OTHER_ID = "OTHER_ID"

    @property
    def safe_harbor(self) -> SafeHarbor:
        """The Safe Harbor category this type falls under."""
        return _SAFE_HARBOR[self]

    @property
    def letter(self) -> str:
        """The Safe Harbor letter, ``A`` to ``R``."""
        return self.safe_harbor.name


_SAFE_HARBOR: dict[EntityType, SafeHarbor] = {
    EntityType.NAME: SafeHarbor.A,
    EntityType.STREET_ADDRESS: SafeHarbor.B,
    EntityType.CITY: SafeHarbor.B,
    EntityType.COUNTY: SafeHarbor.B,
    EntityType.ZIP_CODE: SafeHarbor.B,
    EntityType.DATE: SafeHarbor.C,
    EntityType.AGE_OVER_89: SafeHarbor.C,
    EntityType.PHONE: SafeHarbor.D,
    EntityType.FAX: SafeHarbor.E,
    EntityType.EMAIL: SafeHarbor.F,
    EntityType.SSN: SafeHarbor.G,
    EntityType.MRN: SafeHarbor.H,
    EntityType.HEALTH_PLAN_ID: SafeHarbor.I,
    EntityType.ACCOUNT_NUMBER: SafeHarbor.J,
    # A payment card number is an account number in the Safe Harbor sense.
    EntityType.CREDIT_CARD: SafeHarbor.J,
    EntityType.LICENSE_NUMBER: SafeHarbor.K,
    EntityType.DEA_NUMBER: SafeHarbor.K,
    EntityType.VEHICLE_ID: SafeHarbor.L,
    EntityType.DEVICE_ID: SafeHarbor.M,
    EntityType.URL: SafeHarbor.N,
    EntityType.IP_ADDRESS: SafeHarbor.O,
    EntityType.BIOMETRIC: SafeHarbor.P,
    EntityType.PHOTO: SafeHarbor.Q,
    # An NPI identifies a provider, not the patient; it is reported as "other unique number" since
    # it still re-identifies the encounter when combined with dates.
    EntityType.NPI: SafeHarbor.R,
    EntityType.OTHER_ID: SafeHarbor.R,
}
