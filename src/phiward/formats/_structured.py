"""Readers for structured health formats (issue 5), in sniffing order.

Order matters where formats nest: Office packages are zips, so DOCX/XLSX sniff before the archive
reader; CDA is XML, so it sniffs before generic XML; FHIR JSON sniffs before the basic JSON reader.
"""

from __future__ import annotations

from phiward.formats._archive import ArchiveReader
from phiward.formats._base import Reader
from phiward.formats._dicom import DicomReader
from phiward.formats._encrypted import EncryptedEnvelopeReader
from phiward.formats._fhir import FhirJsonReader, FhirNdjsonReader
from phiward.formats._hl7 import Hl7Reader
from phiward.formats._image import ImageReader
from phiward.formats._office import DocxReader, OleReader, XlsxReader
from phiward.formats._parquet import ParquetReader
from phiward.formats._pdf import PdfReader
from phiward.formats._xml import CdaReader, FhirXmlReader, XmlReader


def structured_readers() -> list[Reader]:
    """Readers that recognise their format from content, tried before the basic ones."""
    return [
        EncryptedEnvelopeReader(),
        DicomReader(),
        ParquetReader(),
        PdfReader(),
        DocxReader(),
        XlsxReader(),
        OleReader(),
        ArchiveReader(),
        ImageReader(),
        Hl7Reader(),
        FhirNdjsonReader(),
        FhirJsonReader(),
        CdaReader(),
        FhirXmlReader(),
        XmlReader(),
    ]
