"""A deterministic synthetic "legacy system" full of (invented) PHI, with ground truth.

Everything here is made up by this module's own word lists and random generator (seeded), never
from the detector's dictionaries, so measuring the detector on it is fair. ``ground-truth.json``
lists every planted identifier: file, line, character span within the line (text) or field (CSV
column / JSON key path), entity type and the synthetic value, marked ``"synthetic": true``.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from phiward.core.entities import EntityType as E
from phiward.core.finding import Finding
from phiward.detect._validators import VIN_VALUES, VIN_WEIGHTS

MARKER = ".phiward-demo"
GROUND_TRUTH = "ground-truth.json"

_FIRST = [
    "Aaliyah",
    "Abdul",
    "Ada",
    "Adrian",
    "Aiko",
    "Alejandro",
    "Amara",
    "Ananya",
    "Andre",
    "Beatriz",
    "Bianca",
    "Carlos",
    "Chiamaka",
    "Connor",
    "Dmitri",
    "Eleanor",
    "Elena",
    "Emeka",
    "Esther",
    "Farah",
    "Gabriel",
    "Grace",
    "Hana",
    "Hector",
    "Ibrahim",
    "Imani",
    "Isabel",
    "Jamal",
    "Javier",
    "Jin",
    "Kavya",
    "Keisha",
    "Kenji",
    "Lakshmi",
    "Leon",
    "Lucia",
    "Malik",
    "Marisol",
    "Mateo",
    "Mei",
    "Miriam",
    "Nadia",
    "Naveen",
    "Nia",
    "Oksana",
    "Omar",
    "Priya",
    "Rafael",
    "Rosalind",
    "Samuel",
    "Sofia",
    "Tariq",
    "Thandiwe",
    "Theodore",
    "Valentina",
    "Wei",
    "Yusuf",
    "Zainab",
    "Margaret",
    "Harold",
    "Dorothy",
    "Walter",
]
_LAST = [
    "Abernathy",
    "Achebe",
    "Alvarez",
    "Andersen",
    "Bakshi",
    "Barros",
    "Castellanos",
    "Chowdhury",
    "Delacroix",
    "Dubois",
    "Eriksen",
    "Fitzgerald",
    "Fonseca",
    "Gallagher",
    "Goldberg",
    "Haddad",
    "Hernandez",
    "Hoffmann",
    "Iwasaki",
    "Jablonski",
    "Kowalczyk",
    "Kuznetsov",
    "Lindqvist",
    "Lombardi",
    "MacAllister",
    "Mahlangu",
    "Mendoza",
    "Moreau",
    "Nakamura",
    "Novak",
    "Obi",
    "Okonkwo",
    "Oyelaran",
    "Pellegrino",
    "Petrov",
    "Quintero",
    "Rasmussen",
    "Rosenthal",
    "Sandoval",
    "Schreiber",
    "Takahashi",
    "Thornton",
    "Underwood",
    "Vasquez",
    "Villanueva",
    "Wojcik",
    "Whitaker",
    "Yamamoto",
    "Zielinski",
    "Castillo",
    "Brennan",
    "Harrington",
    "Montgomery",
    "Kaur",
    "Nguyen",
    "Patel",
]
_STREETS = [
    "Maple",
    "Willow",
    "Juniper",
    "Harbor",
    "Ridgeview",
    "Chestnut",
    "Sycamore",
    "Lakeshore",
    "Magnolia",
    "Orchard",
    "Birchwood",
    "Foxglove",
    "Granite",
    "Meadowlark",
    "Pinecrest",
]
_SUFFIX = ["Street", "Avenue", "Road", "Lane", "Drive", "Court", "Boulevard", "Way", "Place"]
_CITIES = [
    ("Riverton", "WY", "82501"),
    ("Fairhaven", "MA", "02719"),
    ("Lakewood", "CO", "80226"),
    ("Brookfield", "WI", "53045"),
    ("Greenville", "SC", "29601"),
    ("Ashland", "OR", "97520"),
    ("Marion", "OH", "43302"),
    ("Salem", "NH", "03079"),
    ("Elko", "NV", "89801"),
    ("Kodiak", "AK", "99615"),
    ("Bennington", "VT", "05201"),
    ("Jackson", "WY", "83001"),
]
_COUNTIES = ["Kent", "Fremont", "Hamilton", "Marion", "Jefferson", "Franklin"]
_PROBLEMS = [
    "community-acquired pneumonia",
    "acute exacerbation of COPD",
    "congestive heart failure",
    "diabetic ketoacidosis",
    "a left hip fracture after a fall",
    "cellulitis of the right lower leg",
    "atrial fibrillation with rapid ventricular response",
    "a urinary tract infection",
]
_MEDS = [
    "metformin 500 mg twice daily",
    "lisinopril 10 mg daily",
    "atorvastatin 40 mg nightly",
    "apixaban 5 mg twice daily",
    "furosemide 40 mg daily",
    "insulin glargine 20 units",
]
# Narrative without identifiers, as most of a real discharge summary is.
_COURSE = [
    "Blood cultures were drawn and empiric antibiotics were started in the emergency department.",
    "Chest radiograph showed a right lower lobe consolidation without effusion.",
    "The patient was continued on home medications except for the diuretic, which was held.",
    "Physical therapy evaluated the patient and recommended home with outpatient therapy.",
    "Renal function improved with intravenous fluids and creatinine returned to baseline.",
    "Telemetry showed sinus rhythm with occasional premature ventricular contractions.",
    "Pain was controlled with acetaminophen and low-dose oxycodone as needed.",
    "Cardiology was consulted and recommended continuing anticoagulation at discharge.",
    "Glucose was managed with basal-bolus insulin and the hemoglobin A1c was 8.4 percent.",
    "The wound was examined daily and showed no signs of spreading erythema or purulence.",
    "Repeat laboratory studies on the day of discharge were within normal limits.",
    "Speech and swallow evaluation cleared the patient for a regular consistency diet.",
    "Oxygen was weaned to room air with saturations above 94 percent at rest and ambulation.",
    "The Foley catheter was removed on hospital day two and the patient voided spontaneously.",
    "Echocardiogram showed an ejection fraction of 40 percent with mild mitral regurgitation.",
    "Warning signs were reviewed, including fever, worsening shortness of breath and chest pain.",
    "The family was updated at the bedside and agreed with the plan of care.",
    "Vital signs remained stable overnight and the patient tolerated oral intake well.",
    "Antibiotics will be continued for a total course of seven days.",
    "Home health nursing will visit twice weekly for medication reconciliation and wound care.",
]
_EXAM = [
    "General: alert, oriented, in no acute distress.",
    "HEENT: mucous membranes moist, oropharynx clear.",
    "Cardiovascular: regular rate and rhythm, no murmurs, rubs or gallops.",
    "Lungs: decreased breath sounds at the right base, no wheezes.",
    "Abdomen: soft, non-tender, non-distended, normal bowel sounds.",
    "Extremities: trace bilateral lower extremity edema, pulses intact.",
    "Neurologic: cranial nerves intact, strength five out of five throughout.",
    "Skin: warm and dry, healing incision without drainage.",
]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass
class Patient:
    first: str
    last: str
    dob: tuple[int, int, int]
    ssn: str
    mrn: str
    phone: str
    fax: str
    email: str
    street: str
    city: str
    state: str
    zip: str
    member_id: str
    mbi: str
    admit: tuple[int, int, int]
    discharge: tuple[int, int, int]
    ip: str
    age: int
    account: str
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


def _ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _phone(rng: random.Random) -> str:
    area = rng.choice([212, 303, 415, 503, 617, 702, 773, 801, 907, 919])
    exchange = rng.randint(200, 989)
    if exchange % 100 == 11:  # N11 codes are not exchanges
        exchange += 1
    return f"({area}) {exchange}-{rng.randint(0, 9999):04d}"


_MBI_L = "ACDEFGHJKMNPQRTUVWXY"


def _mbi(rng: random.Random) -> str:
    c = rng.choice
    d = "0123456789"
    return (
        c("123456789") + c(_MBI_L) + c(_MBI_L + d) + c(d) + "-" + c(_MBI_L) + c(_MBI_L + d)
        + c(d) + "-" + c(_MBI_L) + c(_MBI_L) + c(d) + c(d)
    )  # fmt: skip


def _date(rng: random.Random, y0: int, y1: int) -> tuple[int, int, int]:
    return rng.randint(y0, y1), rng.randint(1, 12), rng.randint(1, 28)


def _patient(rng: random.Random, i: int) -> Patient:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    city, state, zipc = rng.choice(_CITIES)
    dob = _date(rng, 1925, 2004)
    admit = _date(rng, 2019, 2024)
    dis = (admit[0], admit[1], min(28, admit[2] + rng.randint(1, 9)))
    return Patient(
        first=first,
        last=last,
        dob=dob,
        ssn=_ssn(rng),
        mrn=f"{rng.randint(10_000_000, 99_999_999)}",
        phone=_phone(rng),
        fax=_phone(rng),
        email=f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@{rng.choice(['mailbox.example', 'inbox.example', 'post.example'])}.com",  # noqa: E501
        street=f"{rng.randint(10, 9899)} {rng.choice(_STREETS)} {rng.choice(_SUFFIX)}",
        city=city,
        state=state,
        zip=zipc,
        member_id=rng.choice("ABCHKMW") + rng.choice("XYZQ") + str(rng.randint(10**8, 10**9 - 1)),
        mbi=_mbi(rng),
        admit=admit,
        discharge=dis,
        ip=f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        age=rng.randint(90, 104) if i % 7 == 0 else 0,
        account=f"{rng.randint(1_000_000, 9_999_999)}",
    )


def _fmt_date(rng: random.Random, d: tuple[int, int, int]) -> str:
    y, m, day = d
    style = rng.randrange(5)
    if style == 0:
        return f"{m:02d}/{day:02d}/{y}"
    if style == 1:
        return f"{y}-{m:02d}-{day:02d}"
    if style == 2:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(day if day < 20 else day % 10, "th")
        return f"{_MONTHS[m - 1]} {day}{suffix}, {y}"
    if style == 3:
        return f"{m}/{day}/{y % 100:02d}"
    return f"{_MONTHS[m - 1][:3]} {day}, {y}"


Segment = str | tuple[E, str]


class _Doc:
    """Lines made of plain text and planted values; records each planted span."""

    def __init__(self, rel: str, truth: list[dict[str, Any]]) -> None:
        self.rel = rel
        self.truth = truth
        self.lines: list[str] = []

    def add(self, *segments: Segment) -> None:
        line_no = len(self.lines) + 1
        parts: list[str] = []
        pos = 0
        for seg in segments:
            if isinstance(seg, str):
                parts.append(seg)
                pos += len(seg)
            else:
                entity, value = seg
                self.truth.append(
                    {
                        "file": self.rel,
                        "line": line_no,
                        "start": pos,
                        "end": pos + len(value),
                        "entity": entity.value,
                        "value": value,
                        "synthetic": True,
                    }
                )
                parts.append(value)
                pos += len(value)
        self.lines.append("".join(parts))

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _note(rng: random.Random, p: Patient, doc: _Doc) -> None:
    doc.add("DISCHARGE SUMMARY")
    doc.add("Patient: ", (E.NAME, p.name), "    MRN: ", (E.MRN, p.mrn))
    doc.add("DOB: ", (E.DATE, _fmt_date(rng, p.dob)), "    SSN: ", (E.SSN, p.ssn))
    doc.add("Admitted: ", (E.DATE, _fmt_date(rng, p.admit)),
            "    Discharged: ", (E.DATE, _fmt_date(rng, p.discharge)))  # fmt: skip
    doc.add("Address: ", (E.STREET_ADDRESS, p.street), ", ", (E.CITY, p.city), ", ",
            p.state, " ", (E.ZIP_CODE, p.zip))  # fmt: skip
    doc.add("Phone: ", (E.PHONE, p.phone), "    Fax: ", (E.FAX, p.fax))
    doc.add("Email: ", (E.EMAIL, p.email))
    doc.add("Insurance member ID: ", (E.HEALTH_PLAN_ID, p.member_id),
            "    Medicare MBI: ", (E.HEALTH_PLAN_ID, p.mbi))  # fmt: skip
    doc.add("")
    doc.add("HISTORY OF PRESENT ILLNESS")
    if p.age:
        doc.add("The patient is a ", (E.AGE_OVER_89, f"{p.age}-year-old"), " with a history"
                " of hypertension who presented with ", rng.choice(_PROBLEMS), ".")  # fmt: skip
    else:
        doc.add("The patient presented with ", rng.choice(_PROBLEMS),
                " after two days of worsening symptoms.")  # fmt: skip
    rel_first, rel_last = rng.choice(_FIRST), p.last
    doc.add("Mr. ", (E.NAME, p.last), " was seen in the emergency department on ",
            (E.DATE, _fmt_date(rng, p.admit)), " and admitted to the medical floor.")  # fmt: skip
    doc.add("His daughter ", (E.NAME, f"{rel_first} {rel_last}"), " can be reached at ",
            (E.PHONE, _phone(rng)), ".")  # fmt: skip
    doc.add("Brown stool was noted on the second day; no melena. Lungs clear to auscultation.")
    doc.add("")
    doc.add("HOSPITAL COURSE")
    for _ in range(3):
        doc.add(" ".join(rng.sample(_COURSE, 4)))
    doc.add("")
    doc.add("PHYSICAL EXAM AT DISCHARGE")
    for line in rng.sample(_EXAM, 6):
        doc.add(line)
    doc.add("Medications on discharge: ", rng.choice(_MEDS), " and ", rng.choice(_MEDS), ".")
    doc.add("")
    doc.add("Follow up with Dr. ", (E.NAME, rng.choice(_LAST)), " in two weeks at the ",
            (E.COUNTY, f"{rng.choice(_COUNTIES)} County"), " clinic.")  # fmt: skip
    dea = _dea(rng)
    npi = _npi(rng)
    doc.add("Prescriber DEA: ", (E.DEA_NUMBER, dea), "  NPI: ", (E.NPI, npi))
    if rng.random() < 0.3:
        doc.add("Vehicle VIN: ", (E.VEHICLE_ID, _vin(rng)),
                " (patient was the driver in the collision).")  # fmt: skip
    if rng.random() < 0.3:
        doc.add("Pacemaker serial number: ", (E.DEVICE_ID, f"PM{rng.randint(10**8, 10**9 - 1)}"))
    doc.add("Patient portal: ", (E.URL, f"https://portal.example-health.org/p/{p.mrn}"))
    doc.add("Electronically signed by ", (E.NAME, f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"),
            ", MD")  # fmt: skip


def _dea(rng: random.Random) -> str:
    d = [rng.randint(0, 9) for _ in range(6)]
    check = ((d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])) % 10
    return (
        rng.choice("ABFM")
        + rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
        + "".join(map(str, d))
        + str(check)
    )


def _luhn_digit(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def _npi(rng: random.Random) -> str:
    base = str(rng.choice([1, 2])) + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return base + _luhn_digit("80840" + base)


_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def _vin(rng: random.Random) -> str:
    while True:
        chars = [rng.choice(_VIN_CHARS) for _ in range(17)]
        chars[8] = "0"
        total = sum(VIN_VALUES[c] * w for c, w in zip(chars, VIN_WEIGHTS, strict=True))
        rem = total % 11
        chars[8] = "X" if rem == 10 else str(rem)
        vin = "".join(chars)
        if not vin.isdigit() and not vin.isalpha():
            return vin


def _iso(d: tuple[int, int, int]) -> str:
    return f"{d[0]}-{d[1]:02d}-{d[2]:02d}"


def generate(
    directory: Path, *, seed: int = 7, patients: int = 60, force: bool = False
) -> dict[str, int]:
    """Write the data set into ``directory``; returns counts. Deterministic for a seed."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise FileExistsError(f"{directory} exists and was not written by demo-data")
        if not force:
            raise FileExistsError(f"{directory} already holds demo data")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("synthetic data written by phiward demo-data\n")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible by design
    people = [_patient(rng, i) for i in range(patients)]
    truth: list[dict[str, Any]] = []
    files = 0

    def write(rel: str, text: str) -> None:
        nonlocal files
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        files += 1

    for i, p in enumerate(people):
        rel = f"notes/discharge_{i + 1:04d}.txt"
        doc = _Doc(rel, truth)
        _note(rng, p, doc)
        write(rel, doc.text())

    # CSV export: header-aware, one identifier per cell.
    cols = [("patient_id", None), ("patient_name", E.NAME), ("dob", E.DATE), ("ssn", E.SSN),
            ("mrn", E.MRN), ("phone", E.PHONE), ("email", E.EMAIL), ("street", E.STREET_ADDRESS),
            ("city", E.CITY), ("state", None), ("zip", E.ZIP_CODE), ("member_id", E.HEALTH_PLAN_ID),
            ("diagnosis", None)]  # fmt: skip
    rel = "exports/patients.csv"
    lines = [",".join(c for c, _ in cols)]
    for i, p in enumerate(people):
        values = [f"P{i + 1:05d}", p.name, _iso(p.dob), p.ssn, p.mrn, p.phone, p.email,
                  p.street, p.city, p.state, p.zip, p.member_id, rng.choice(_PROBLEMS)]  # fmt: skip
        line_no = len(lines) + 1
        for (col, col_ent), val in zip(cols, values, strict=True):
            ent = E.OTHER_ID if col == "patient_id" else col_ent
            if ent is not None:
                truth.append({"file": rel, "line": line_no, "field": col, "entity": ent.value,
                              "value": val, "synthetic": True})  # fmt: skip
        lines.append(",".join(f'"{v}"' if "," in v else v for v in values))
    write(rel, "\n".join(lines) + "\n")

    # Encounters as TSV with dates and account numbers.
    rel = "exports/encounters.tsv"
    tlines = ["encounter\tmrn\tadmit_date\tdischarge_date\taccount_number\tward"]
    for i, p in enumerate(people):
        line_no = len(tlines) + 1
        row = [f"E{i + 1:06d}", p.mrn, _iso(p.admit), _iso(p.discharge), p.account,
               rng.choice(["4N", "5S", "ICU", "ED"])]  # fmt: skip
        for col, ent, val in (("mrn", E.MRN, p.mrn), ("admit_date", E.DATE, row[2]),
                              ("discharge_date", E.DATE, row[3]),
                              ("account_number", E.ACCOUNT_NUMBER, p.account)):  # fmt: skip
            truth.append({"file": rel, "line": line_no, "field": col, "entity": ent.value,
                          "value": val, "synthetic": True})  # fmt: skip
        tlines.append("\t".join(row))
    write(rel, "\n".join(tlines) + "\n")

    # JSON document: nested, key-aware.
    rel = "exports/registry.json"
    records = []
    for i, p in enumerate(people[:25]):
        rec = {
            "id": i + 1,
            "name": {"given": p.first, "family": p.last},
            "birthDate": _iso(p.dob),
            "contact": {"email": p.email, "phone": p.phone},
            "status": "active",
        }
        records.append(rec)
        for key, ent, val in ((f"patients[{i}].name.given", E.NAME, p.first),
                              (f"patients[{i}].name.family", E.NAME, p.last),
                              (f"patients[{i}].birthDate", E.DATE, _iso(p.dob)),
                              (f"patients[{i}].contact.email", E.EMAIL, p.email),
                              (f"patients[{i}].contact.phone", E.PHONE, p.phone)):  # fmt: skip
            truth.append({"file": rel, "field": key, "entity": ent.value, "value": val,
                          "synthetic": True})  # fmt: skip
    write(rel, json.dumps({"source": "legacy-registry", "patients": records}, indent=2) + "\n")

    # NDJSON lab feed.
    rel = "exports/labs.ndjson"
    nd = []
    for i, p in enumerate(people):
        when = _iso(p.admit)
        nd.append(json.dumps({"mrn": p.mrn, "collected": when, "test": "CBC", "wbc": 7.1 + i % 5,
                              "ordering_provider_npi": _npi(rng)}))  # fmt: skip
        truth.append({"file": rel, "line": i + 1, "field": "mrn", "entity": "MRN",
                      "value": p.mrn, "synthetic": True})  # fmt: skip
        truth.append({"file": rel, "line": i + 1, "field": "collected", "entity": "DATE",
                      "value": when, "synthetic": True})  # fmt: skip
        npi_val = json.loads(nd[-1])["ordering_provider_npi"]
        truth.append({"file": rel, "line": i + 1, "field": "ordering_provider_npi",
                      "entity": "NPI", "value": npi_val, "synthetic": True})  # fmt: skip
    write(rel, "\n".join(nd) + "\n")

    # Application log: mostly clean lines, a few leaking identifiers.
    rel = "logs/portal-app.log"
    doc = _Doc(rel, truth)
    for i in range(400):
        ts = f"2024-03-{1 + i % 28:02d} {8 + i % 10:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
        r = rng.random()
        if r < 0.06:
            p = rng.choice(people)
            doc.add(ts, " INFO login ok user=", (E.EMAIL, p.email), " ip=", (E.IP_ADDRESS, p.ip))
        elif r < 0.09:
            p = rng.choice(people)
            doc.add(ts, " WARN lookup failed for MRN ", (E.MRN, p.mrn), " (retrying)")
        elif r < 0.11:
            p = rng.choice(people)
            doc.add(ts, " ERROR billing: card ", (E.CREDIT_CARD, _card(rng)),
                    " declined for account ", (E.ACCOUNT_NUMBER, p.account))  # fmt: skip
        else:
            doc.add(ts, f" INFO GET /api/v2/formulary?page={i} 200 {rng.randint(3, 90)}ms")
    write(rel, doc.text())

    # Scanned letters filed under the patient's name: the file name itself is PHI.
    for p in people[:5]:
        rel = f"scans/{p.first}_{p.last}_MRN_{p.mrn}.txt"
        write(rel, "Scanned referral letter; the image is kept in the document system.\n")
        for ent, val in ((E.NAME, f"{p.first} {p.last}"), (E.MRN, p.mrn)):
            truth.append({"file": rel, "field": "(file name)", "entity": ent.value,
                          "value": val, "synthetic": True})  # fmt: skip

    # Clean files: no PHI at all.
    write("clean/README.txt", "Legacy export tool.\nRun nightly at 02:00. Version 3.4.1.\n"
          "Contact the service desk through the internal ticket queue.\n")  # fmt: skip
    write("clean/formulary.csv", "drug,strength,route\n" + "".join(
        f"{m.split(' ')[0]},{m.split(' ', 1)[1]},oral\n" for m in _MEDS))  # fmt: skip
    write("clean/settings.json", json.dumps({"retention_days": 30, "batch_size": 500,
                                             "timezone": "UTC"}, indent=2) + "\n")  # fmt: skip
    # Already protected: encrypted with a throwaway key (Fernet: AES-128-CBC + HMAC-SHA256).
    token = Fernet(Fernet.generate_key()).encrypt(lines[1].encode() if len(lines) > 1 else b"x")
    write("protected/patients-backup.csv.fernet", token.decode() + "\n")
    # A binary blob the scanner must skip.
    bin_path = directory / "images" / "scan-0001.bin"
    bin_path.parent.mkdir(parents=True, exist_ok=True)
    bin_path.write_bytes(bytes(rng.randrange(256) for _ in range(2048)) + b"\x00" * 64)
    files += 1

    doc_truth = {
        "synthetic": True,
        "note": "Every value below is invented by phiward demo-data; none is real PHI.",
        "seed": seed,
        "patients": patients,
        "identifiers": truth,
    }
    (directory / GROUND_TRUTH).write_text(json.dumps(doc_truth, indent=1) + "\n")
    (directory / ".phiwardignore").write_text("# the answer key is not part of the scan\n"
                                              f"{GROUND_TRUTH}\n{MARKER}\n")  # fmt: skip
    return {"files": files, "identifiers": len(truth)}


def _card(rng: random.Random) -> str:
    base = "4" + "".join(str(rng.randint(0, 9)) for _ in range(14))
    full = base + _luhn_digit(base)
    return " ".join(full[i : i + 4] for i in range(0, 16, 4))


@dataclass
class Score:
    """Precision and recall of one entity type (or all) against the ground truth."""

    truth: int = 0
    found: int = 0
    findings: int = 0
    true_findings: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.truth if self.truth else 1.0

    @property
    def precision(self) -> float:
        return self.true_findings / self.findings if self.findings else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _matches(t: dict[str, Any], f: Finding) -> bool:
    loc = f.location
    if "start" in t:
        if loc.line != t["line"] or loc.column is None:
            return False
        s = loc.column - 1
        e = s + (loc.end - loc.start)
        return bool(s < t["end"] and t["start"] < e)
    if loc.field != t["field"]:
        return False
    return bool(t.get("line") is None or loc.line == t["line"])


def evaluate(directory: Path, findings_by_file: dict[str, list[Finding]]) -> dict[str, Score]:
    """Score findings (keyed by path relative to ``directory``) against its ground truth.

    A planted identifier is found when a finding of the same type overlaps its span (same line)
    or sits in its field; a finding is true when it matches some planted identifier. The key
    ``"ALL"`` holds the totals.
    """
    truth = json.loads((Path(directory) / GROUND_TRUTH).read_text())["identifiers"]
    scores: dict[str, Score] = {}
    by_file: dict[str, list[dict[str, Any]]] = {}
    for t in truth:
        by_file.setdefault(t["file"], []).append(t)
        scores.setdefault(t["entity"], Score()).truth += 1
    found_ids: set[int] = set()
    for rel, findings in findings_by_file.items():
        planted = by_file.get(rel, [])
        for f in findings:
            sc = scores.setdefault(f.entity.value, Score())
            sc.findings += 1
            hit = False
            for t in planted:
                if t["entity"] == f.entity.value and _matches(t, f):
                    found_ids.add(id(t))
                    hit = True
            if hit:
                sc.true_findings += 1
    for t in truth:
        if id(t) in found_ids:
            scores[t["entity"]].found += 1
    total = Score()
    for sc in scores.values():
        total.truth += sc.truth
        total.found += sc.found
        total.findings += sc.findings
        total.true_findings += sc.true_findings
    scores["ALL"] = total
    return scores
