"""Shared vocabulary of phiward: entity types, findings, masking, fingerprints, settings, logging.

``core`` imports nothing else of phiward, so every other layer may depend on it.
"""

from phiward.core.entities import EntityType, SafeHarbor
from phiward.core.finding import Evidence, Finding, Location
from phiward.core.fingerprint import Fingerprinter
from phiward.core.masking import mask
from phiward.core.settings import Settings, load_settings

__all__ = [
    "EntityType",
    "Evidence",
    "Finding",
    "Fingerprinter",
    "Location",
    "SafeHarbor",
    "Settings",
    "load_settings",
    "mask",
]
