"""The pattern recognizers: one regular expression per identifier shape, plus what confirms it.

Patterns avoid look-around so that the same text compiles under Python ``re``, google-re2 and
hyperscan alike. A named group ``v`` marks the value inside a match that also carries its keyword
(``MRN: 12345678``); without it the whole match is the value. ``score`` is the confidence without a
context word in the window before the match, ``context_score`` with one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from phiward.core.entities import EntityType as E
from phiward.detect import _validators as v

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_ORD = r"(?:st|nd|rd|th)?"
_STATES = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|"
    r"NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|"
    r"Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|"
    r"Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|"
    r"Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|"
    r"New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|"
    r"Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|"
    r"West Virginia|Wisconsin|Wyoming)"
)
# Street suffixes: the USPS Publication 28 (Appendix C1) primary names and their common
# abbreviations, plus British forms (Close, Crescent, Mews...). Abbreviations that are also
# clinical shorthand (Pt, Br, Ext, Sta...) are left out.
_STREET = (
    r"(?:Street|St|Str|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Crt|Way|"
    r"Wy|Place|Pl|Terrace|Ter|Terr|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|"
    r"Loop|Pike|Plaza|Plz|Crossing|Xing|Ridge|Rdg|Run|Path|Alley|Aly|Row|Annex|Arcade|Bayou|"
    r"Beach|Bend|Bluffs?|Bottom|Branch|Bridge|Brooks?|Burg|Bypass|Byp|Camp|Canyon|Cape|"
    r"Causeway|Cswy|Center|Centre|Ctr|Cliffs?|Club|Commons?|Corners?|Course|Courts|Cove|Creek|"
    r"Crk|Crescent|Cres|Crest|Crossroads?|Curve|Dale|Dam|Divide|Drives|Estates?|Expressway|"
    r"Expy|Extension|Falls|Ferry|Fields?|Flats?|Ford|Forest|Forge|Forks?|Freeway|Fwy|"
    r"Gardens?|Gdns|Gateway|Glens?|Greens?|Grove|Grv|Harbou?r|Haven|Heights|Hts|Hills?|Hollow|"
    r"Inlet|Island|Isle|Junction|Jct|Keys?|Knolls?|Lakes?|Landing|Lndg|Light|Lock|Lodge|Mall|"
    r"Manor|Meadows?|Mews|Mills?|Mission|Motorway|Mountain|Mtn|Neck|Orchard|Oval|Overpass|"
    r"Park|Pass|Passage|Pines?|Plains?|Points?|Ports?|Prairie|Radial|Ramp|Ranch|Rapids?|"
    r"Rest|Rise|River|Route|Rte|Shoals?|Shores?|Skyway|Springs?|Spur|Squares|Station|"
    r"Stravenue|Stream|Summit|Trace|Track|Trafficway|Tunnel|Turnpike|Tpke|Underpass|Union|"
    r"Unions|Valleys?|Vly|Viaduct|Views?|Village|Ville|Vista|Walk|Wall|Wells?|Wynd|Close|Gate)"
)
_DIRECTIONAL = (
    r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West|Northeast|Northwest|Southeast|Southwest)"
)
# Letters of European street and place names (Latin-1 and Latin Extended-A/B: "Miła", "Křenová").
_L = "A-Za-zÀ-ÖØ-öø-ÿ\u0100-\u024f"
_UPPER = "A-ZÀ-ÖØ-Þ\u0100-\u024f"
_WORD = rf"[{_UPPER}][{_L}'-]+"
# Countries whose name may come right before a postal code ("Estonia 50090", "Finland 00100").
_COUNTRIES = (
    r"(?:Afghanistan|Albania|Algeria|Andorra|Angola|Argentina|Armenia|Australia|Austria|"
    r"Azerbaijan|Bahamas|Bahrain|Bangladesh|Barbados|Belarus|Belgium|Belize|Bolivia|Bosnia|"
    r"Brazil|Brunei|Bulgaria|Cambodia|Cameroon|Canada|Chile|China|Colombia|Croatia|Cuba|Cyprus|"
    r"Czech Republic|Czechia|Denmark|Ecuador|Egypt|Estonia|Ethiopia|Finland|France|Georgia|"
    r"Germany|Ghana|Greece|Greenland|Guatemala|Honduras|Hungary|Iceland|India|Indonesia|Iran|"
    r"Iraq|Ireland|Israel|Italy|Jamaica|Japan|Jordan|Kazakhstan|Kenya|Korea|Kuwait|Latvia|"
    r"Lebanon|Liechtenstein|Lithuania|Luxembourg|Malaysia|Malta|Mexico|Moldova|Monaco|Mongolia|"
    r"Montenegro|Morocco|Nepal|Netherlands|New Zealand|Nigeria|North Macedonia|Norway|Pakistan|"
    r"Panama|Paraguay|Peru|Philippines|Poland|Portugal|Qatar|Romania|Russia|Saudi Arabia|"
    r"Serbia|Singapore|Slovakia|Slovenia|South Africa|Spain|Sri Lanka|Sweden|Switzerland|"
    r"Taiwan|Thailand|Tunisia|Turkey|Ukraine|United Arab Emirates|United Kingdom|"
    r"United States|Uruguay|Venezuela|Vietnam|USA|UK)"
)
_PARTICLE = (
    r"(?:de|del|della|delle|dei|degli|di|da|das|do|dos|du|des|la|le|les|e|y|van|von|der|den)"
)
_ID = r"(?P<v>[A-Z0-9][A-Z0-9-]{3,19})\b"
_SEP = r"\s*[:#]?\s*"

Validator = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Recognizer:
    name: str
    entity: E
    pattern: str
    score: float
    context_score: float
    context: tuple[str, ...] = ()
    validator: Validator | None = None
    validator_name: str | None = None


def _date_ok(value: str) -> bool:
    parts = [p for p in value.replace(".", "/").replace("-", "/").split("/") if p]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    a, b, c = parts
    if len(a) == 4:
        return v.plausible_date(int(a), int(b), int(c))
    y = v.expand_year(c)
    return v.plausible_date(y, int(a), int(b)) or v.plausible_date(y, int(b), int(a))


def _phone_ok(value: str) -> bool:
    d = v.digits(
        value.split("x", maxsplit=1)[0].split("ext", maxsplit=1)[0].split("X", maxsplit=1)[0]
    )
    if len(d) == 11 and d[0] == "1":
        d = d[1:]
    return len(d) == 10 and v.nanp(d[:3], d[3:6]) and len(set(d)) > 2


def _phone_digits_ok(value: str) -> bool:
    d = v.digits(value.split("x", maxsplit=1)[0])
    return 7 <= len(d) <= 15 and len(set(d)) > 2


def _ssn_ok(value: str) -> bool:
    return v.ssn(value)


_DATE_CONTEXT = (
    "dob",
    "d.o.b",
    "birth",
    "born",
    "birthday",
    "admit",
    "admitted",
    "admission",
    "discharge",
    "discharged",
    "death",
    "died",
    "deceased",
    "expired",
    "date of service",
    "dos",
    "visit",
    "seen",
    "surgery",
    "procedure",
    "encounter",
    "appointment",
    "dod",
    "doa",
    "date",
)
_PHONE_CONTEXT = (
    "phone",
    "tel",
    "telephone",
    "cell",
    "mobile",
    "call",
    "contact",
    "home",
    "work",
    "pager",
    "ph",
    "fax",
    "reach",
    "number",
)

_ADDRESS_CONTEXT = (
    "address",
    "street",
    "lives",
    "live at",
    "resides",
    "mail",
    "ship",
    "deliver",
    "send",
    "located",
)

RECOGNIZERS: tuple[Recognizer, ...] = (
    Recognizer(
        "email",
        E.EMAIL,
        r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b",
        0.95,
        0.98,
    ),
    Recognizer(
        "url",
        E.URL,
        r"\b(?:https?|ftp)://[^\s<>\"'\)\]]+|\bwww\.[A-Za-z0-9-]+\.[^\s<>\"'\)\]]+",
        0.85,
        0.9,
    ),
    Recognizer(
        "mrn_keyword",
        E.MRN,
        r"\b(?i:MRN|MR ?#|MR No\.?|Medical Record(?: Number| No\.?| #)?|Med Rec(?: No\.?| #)?|"
        r"Chart(?: No\.?| Number| #))" + _SEP + r"(?P<v>[A-Z]{0,3}-?\d{4,12})\b",
        0.95,
        0.95,
    ),
    Recognizer(
        "mbi",
        E.HEALTH_PLAN_ID,
        r"\b(?P<v>[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]"
        r"\d-?[AC-HJKMNP-RT-Y]{2}\d{2})\b",
        0.85,
        0.97,
        ("medicare", "mbi", "beneficiary", "cms"),
        v.mbi,
        "mbi-format",
    ),
    Recognizer(
        "health_plan_keyword",
        E.HEALTH_PLAN_ID,
        r"\b(?i:member (?:id|#|number|no\.?)|subscriber (?:id|#|number|no\.?)|"
        r"policy (?:id|#|number|no\.?)|insurance (?:id|#|number)|plan (?:id|#)|"
        r"beneficiary (?:id|#|number)|group (?:#|number|no\.?)|medicaid (?:id|#|number)|"
        r"medicare (?:id|#|number))" + _SEP + _ID,
        0.9,
        0.9,
    ),
    Recognizer(
        "account_keyword",
        E.ACCOUNT_NUMBER,
        r"\b(?i:account(?: (?:number|no\.?|#|id))?|acct\.?(?: ?(?:no\.?|#|number))?|"
        r"billing (?:id|#|number)|invoice (?:no\.?|#|number)|claim (?:id|#|number|no\.?)|"
        r"iban)" + _SEP + r"(?P<v>[A-Z]{0,4}\d[A-Z0-9-]{3,30})\b",
        0.85,
        0.85,
    ),
    Recognizer(
        "npi_keyword",
        E.NPI,
        r"\b(?i:NPI)(?: (?i:number|no\.?|#))?" + _SEP + r"(?P<v>\d{10})\b",
        0.95,
        0.95,
        (),
        v.npi,
        "npi-luhn",
    ),
    Recognizer(
        "drivers_license_keyword",
        E.LICENSE_NUMBER,
        r"\b(?i:driver'?s? licen[cs]e(?: (?:number|no\.?|#))?|DL ?(?:#|no\.?|number)|DLN)"
        + _SEP
        + r"(?P<v>[A-Z0-9][A-Z0-9-]{3,16})\b",
        0.9,
        0.9,
    ),
    Recognizer(
        "license_keyword",
        E.LICENSE_NUMBER,
        r"\b(?i:(?:state |medical |nursing |professional )?licen[cs]e (?:number|no\.?|#)|"
        r"lic\.? ?#|certificate (?:number|no\.?|#))" + _SEP + r"(?P<v>[A-Z0-9][A-Z0-9-]{3,16})\b",
        0.85,
        0.85,
    ),
    Recognizer(
        "plate_keyword",
        E.VEHICLE_ID,
        r"\b(?i:licen[cs]e plate(?: (?:number|no\.?|#))?|plate (?:number|no\.?|#)|"
        r"tag (?:number|#))" + _SEP + r"(?P<v>[A-Z0-9][A-Z0-9 -]{1,7}[A-Z0-9])\b",
        0.85,
        0.85,
    ),
    Recognizer(
        "device_keyword",
        E.DEVICE_ID,
        r"\b(?i:serial (?:number|no\.?|#)|S/N|UDI|device (?:id|identifier|serial)|"
        r"implant (?:id|serial))" + _SEP + r"(?P<v>[A-Z0-9(][A-Z0-9()+/.-]{3,60}[A-Z0-9])",
        0.85,
        0.85,
    ),
    Recognizer(
        "other_id_keyword",
        E.OTHER_ID,
        r"\b(?i:patient (?:id|#|number|no\.?)|encounter (?:id|#|number)|visit (?:id|#|number)|"
        r"case (?:id|#|number|no\.?)|specimen (?:id|#)|accession (?:number|no\.?|#)|"
        r"employee (?:id|#)|person (?:id|#))" + _SEP + _ID,
        0.85,
        0.85,
    ),
    Recognizer(
        "dea",
        E.DEA_NUMBER,
        r"\b(?P<v>[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7})\b",
        0.6,
        0.95,
        ("dea",),
        v.dea,
        "dea-checksum",
    ),
    Recognizer(
        "vin",
        E.VEHICLE_ID,
        r"\b(?P<v>[A-HJ-NPR-Z0-9]{17})\b",
        0.85,
        0.97,
        ("vin", "vehicle", "car", "auto"),
        v.vin,
        "vin-check-digit",
    ),
    Recognizer(
        "ssn",
        E.SSN,
        r"\b(?P<v>\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4})\b",
        0.85,
        0.98,
        ("ssn", "social security", "soc sec", "ss#", "ss #", "social"),
        _ssn_ok,
        "ssa-rules",
    ),
    Recognizer(
        "credit_card",
        E.CREDIT_CARD,
        r"\b(?P<v>(?:\d{4}[- ]?){2}\d{4}(?:[- ]?\d{1,7})?|\d{4}[- ]?\d{6}[- ]?\d{4,5})\b",
        0.9,
        0.97,
        ("card", "visa", "mastercard", "amex", "credit", "cc", "payment", "discover"),
        v.credit_card,
        "luhn+iin",
    ),
    Recognizer(
        "ssn_bare",
        E.SSN,
        r"\b(?P<v>\d{9})\b",
        0.3,
        0.9,
        ("ssn", "social security", "soc sec", "ss#", "ss #"),
        _ssn_ok,
        "ssa-rules",
    ),
    Recognizer(
        "phone_nanp",
        E.PHONE,
        r"(?P<v>(?:\+?1[ .-]?)?(?:\(\d{3}\) ?|\b\d{3}[ .-]?)\d{3}[ .-]?\d{4}"
        r"(?: ?(?:x|ext\.?|extension) ?\d{1,6})?)\b",
        0.8,
        0.95,
        _PHONE_CONTEXT,
        _phone_ok,
        "nanp",
    ),
    Recognizer(
        "phone_keyword",
        E.PHONE,
        r"\b(?i:phone|tel|telephone|mobile|cell|fax|call me on|call me at|answering at|"
        r"messages to|desk|office|contact number|registered)\b\s*[:.]?\s*"
        r"(?P<v>\+?(?:\(\d{1,4}\) ?)?\d{2,5}(?:[ .-]?\(?\d{2,5}\)?){1,4}(?: ?x\d{1,6})?)\b",
        0.8,
        0.8,
        (),
        _phone_digits_ok,
        "digit-count",
    ),
    Recognizer(
        "phone_label_after",
        E.PHONE,
        r"(?P<v>\+?(?:\(\d{1,4}\) ?)?\b\d{2,5}(?:[ .-]?\(?\d{2,5}\)?){1,4})[ -]?"
        r"(?i:office|fax|mobile|cell|home|work|direct)\b",
        0.75,
        0.75,
        (),
        _phone_digits_ok,
        "digit-count",
    ),
    Recognizer(
        "phone_intl",
        E.PHONE,
        r"(?P<v>\+[2-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){2,4})\b",
        0.75,
        0.92,
        _PHONE_CONTEXT,
    ),
    Recognizer(
        "ipv4",
        E.IP_ADDRESS,
        r"\b(?P<v>(?:\d{1,3}\.){3}\d{1,3})\b",
        0.85,
        0.95,
        ("ip", "host", "client", "remote", "src", "dst", "addr", "from"),
        v.ip,
        "ipaddress",
    ),
    Recognizer(
        "ipv6",
        E.IP_ADDRESS,
        r"(?P<v>(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|"
        r"(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?|"
        r"::(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})",
        0.85,
        0.95,
        ("ip", "host", "client", "remote", "src", "dst", "addr"),
        v.ip,
        "ipaddress",
    ),
    Recognizer(
        "date_iso",
        E.DATE,
        r"\b(?P<v>(?:18|19|20)\d{2}[-/]\d{1,2}[-/]\d{1,2})\b",
        0.6,
        0.95,
        _DATE_CONTEXT,
        _date_ok,
        "calendar",
    ),
    Recognizer(
        "date_numeric",
        E.DATE,
        r"\b(?P<v>\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2}))\b",
        0.6,
        0.95,
        _DATE_CONTEXT,
        _date_ok,
        "calendar",
    ),
    Recognizer(
        "date_month_name",
        E.DATE,
        r"\b(?P<v>" + _MONTH + r"\.? \d{1,2}" + _ORD + r",? \d{4}|\d{1,2}" + _ORD + r" (?:of )?"
        r"" + _MONTH + r"\.?,? \d{4})\b",
        0.7,
        0.95,
        _DATE_CONTEXT,
    ),
    Recognizer(
        "date_month_day",
        E.DATE,
        r"\b(?P<v>" + _MONTH + r"\.? \d{1,2}" + _ORD + r")\b",
        0.45,
        0.85,
        _DATE_CONTEXT,
    ),
    Recognizer(
        "age_over_89",
        E.AGE_OVER_89,
        r"\b(?P<v>9\d|1[0-2]\d)[- ]?(?i:years?|yrs?|y/o|yo|y\.o\.)(?:[- ]old)?\b",
        0.9,
        0.95,
    ),
    Recognizer(
        "age_keyword",
        E.AGE_OVER_89,
        r"\b(?i:aged?|age:)\s*(?P<v>9\d|1[0-2]\d)\b",
        0.85,
        0.9,
    ),
    Recognizer(
        "street_address",
        E.STREET_ADDRESS,
        # "1659 Hoog St", "42 Juniper Lane, Apt 3", "12 Main St NW"; a building number may come
        # before the house number ("1180 42 Walnut Avenue").
        r"\b(?P<v>(?:\d{1,6} )?\d{1,6}[A-Z]? (?:[NSEW]\.? |(?:North|South|East|West) )?"
        r"(?:[A-Z][A-Za-z]+\.? ){1,4}" + _STREET + r"\b\.?(?: " + _DIRECTIONAL + r"\b\.?)?"
        r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|#)\.? ?#?[A-Za-z0-9-]+)?)",
        0.85,
        0.9,
    ),
    Recognizer(
        "street_address_europe",
        E.STREET_ADDRESS,
        r"\b(?P<v>(?:\d{1,6} )?(?:" + _WORD + r" )?[" + _UPPER + r"][" + _L + r"'-]*"
        r"(?: ?(?i:katu|tie|vegur|gade|gate|"
        r"vej|vägen|gatan|veien|straße|strasse|weg|laan|straat|steeg|plein|ulica|utca|cesta|iela|"
        r"gatve|tänav|allee|platz|kuja|polku|gränd|gasse|gata|stræti|straeti|plads|torv|körút|"
        r"sokak|sokağı|caddesi|ulice|ulitsa|braut|stien|stræde|vegen|väg|dreef|"
        r"singel|damm|ufer|markt|gässli|bulvár|sétány|tér)"
        # Short street words only as a word of their own ("Piroska u. 97", not "Menu 3").
        r"| (?i:u|tee|vei|út|tér|krt|rkp|trg))\.? \d{1,5}[a-zA-Z]?"
        r"(?:,? (?:Apt|Suite|Unit|Flat)\.? ?\d{1,5})?)\b",
        0.8,
        0.85,
    ),
    Recognizer(
        "street_address_europe_word",
        E.STREET_ADDRESS,
        r"\b(?P<v>(?:\d{1,6} )?(?i:rue|via|calle|c/|avenida|rua|viale|piazza|piazzetta|plaza|"
        r"boulevard|chemin|allée|place|ul\.|ulica|paseo|travessa|largo|avinguda|carrer|corso|"
        r"strada|avenue|av\.|rambla|camino|carretera) (?:"
        + _PARTICLE
        + r" )?"
        + _WORD
        + r"(?: (?:"
        + _PARTICLE
        + r" )?"
        + _WORD
        + r"){0,4}"
        r",? \d{1,5})\b",
        0.75,
        0.8,
    ),
    Recognizer(
        # USPS military mail: "PSC 1234, Box 5678, APO AE 09012", "USS Alamo, FPO AP 96697",
        # "Unit 3051 Box 220 / DPO AE 90744" (the second line after a line break).
        "military_address",
        E.STREET_ADDRESS,
        r"\b(?P<v>(?:(?i:PSC|CMR|Unit) \d{1,5},? (?i:Box) \d{1,5}|(?:USNS|USNV|USS|USCGC) "
        + _WORD
        + r")(?:,? ?|\s+)(?i:APO|FPO|DPO) (?i:AA|AE|AP)(?: \d{5}(?:-\d{4})?)?)\b",
        0.85,
        0.9,
    ),
    Recognizer(
        # A house number, one or two street words, the street number: "30511 Kivimäe 9",
        # "512 Husova 31, Plzeň" (a building or postal number before a European street),
        # ending the line, before a comma or a unit. The validator refuses English words and
        # months ("take 2 Tylenol 500, then" is refused for the drug only if it is listed).
        "street_number_europe",
        E.STREET_ADDRESS,
        r"\b(?P<v>\d{3,6} " + _WORD + r"(?: " + _WORD + r")? \d{1,5}[a-zA-Z]?\.?"
        r"(?:,? (?:Apt|Suite|Unit|Flat)\.? ?\d{1,5})?)(?:,|;|\n|\r|$| (?:Apt|Suite|Unit|Flat)\b)",
        0.6,
        0.85,
        _ADDRESS_CONTEXT,
        v.street_words,
        "street-words",
    ),
    Recognizer(
        # After an address cue, a European street written street-first: "lives at Tamme 14",
        # "address: Vahtra 12", "send it to Kivi 5".
        "street_after_cue",
        E.STREET_ADDRESS,
        r"\b(?i:lives (?:at|on)|living (?:at|on)|resides (?:at|on)|address(?: is)?:?|"
        r"ship(?:ped)? to|send (?:it |them )?to|deliver(?:ed)? to|mail(?:ed)? to|located at|"
        r"corner of|moved to)\s+(?P<v>(?:\d{1,6} )?"
        + _WORD
        + r"(?: (?:"
        + _PARTICLE
        + r" )?"
        + _WORD
        + r"){0,3} \d{1,5}[a-zA-Z]?)\b",
        0.8,
        0.8,
        (),
        v.street_words,
        "street-words",
    ),
    Recognizer(
        # House number first, then a Romance street word: "26 rue des Lilas", "33 avenue de
        # Provence", "8 Av Habib Bourguiba"; a building number may come first ("770 26 rue des
        # Lilas", as in the US pattern).
        "street_number_romance",
        E.STREET_ADDRESS,
        r"\b(?P<v>\d{1,6}(?: \d{1,5})?,? (?i:rue|avenue|av\.?|boulevard|bd|chemin|allée|impasse|"
        r"quai|cours|"
        r"calle|c/|rua|via|viale|piazza|largo|avenida|travessa) (?:(?:" + _PARTICLE + r" ){1,2}"
        r"["
        + _L
        + r"]["
        + _L
        + r"'-]+|"
        + _WORD
        + r")(?: (?:"
        + _PARTICLE
        + r" )?"
        + _WORD
        + r"){0,3})",
        0.75,
        0.8,
    ),
    Recognizer(
        # A postal code right after the country: "Estonia 50090", "New Zealand 1011".
        "postcode_after_country",
        E.ZIP_CODE,
        r"\b" + _COUNTRIES + r",? (?P<v>\d{4,6})(?:\n|\r|$|[.,;)])",
        0.7,
        0.7,
    ),
    Recognizer(
        # A street named without a house number: "Alder Hills Street", "Mora Loop St.", "on
        # Abbey Road"; 0.55 alone, 0.8 near an address word ("corner of", "lives").
        "street_name",
        E.STREET_ADDRESS,
        r"\b(?P<v>" + _WORD + r"(?: " + _WORD + r"){0,2} (?:Street|Avenue|Road|Boulevard|St\.))",
        0.55,
        0.8,
        (*_ADDRESS_CONTEXT, "corner"),
        v.street_name,
        "street-name",
    ),
    Recognizer(
        "secondary_unit",  # the second address line alone: "Apt. 297", "Suite 501"
        E.STREET_ADDRESS,
        r"\b(?P<v>(?:Apt|Apartment|Suite|Ste)\.? ?#? ?\d{1,5}[A-Z]?)\b",
        0.55,
        0.85,
        ("address", "street", "lives", "live at", "resides", "mail", "ship", "deliver"),
    ),
    Recognizer(
        "po_box",
        E.STREET_ADDRESS,
        # US "P.O. Box", and the Nordic, Dutch and German forms ("Postbox 53", "Postbus 1200",
        # "Postfach 1234")
        r"\b(?P<v>(?:\d{1,6} )?(?i:P\.? ?O\.? Box|Post ?box|Postbus|Postfach) \d{1,6})\b",
        0.85,
        0.9,
    ),
    Recognizer(
        "city_state",
        E.CITY,
        r"\b(?P<v>[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2}), "
        + _STATES
        + r"\b(?: (?P<zip>\d{5}(?:-\d{4})?)\b)?",
        0.75,
        0.85,
    ),
    Recognizer(
        "city_keyword",
        E.CITY,
        r"\b(?i:lives in|living in|resides in|resident of|born in|city of|hometown|moved to|"
        r"city:) ?(?P<v>[A-Z][a-z]+(?: [A-Z][a-z]+)?)\b",
        0.7,
        0.7,
    ),
    Recognizer(
        "county",
        E.COUNTY,
        r"\b(?P<v>[A-Z][a-z]+(?: [A-Z][a-z]+)? (?:County|Parish|Borough))\b",
        0.8,
        0.8,
    ),
    Recognizer(
        "zip_keyword",
        E.ZIP_CODE,
        r"\b(?i:zip(?: ?code)?|postal code)" + _SEP + r"(?P<v>\d{5}(?:-\d{4})?)\b",
        0.9,
        0.9,
    ),
    Recognizer(
        "zip_plus4",
        E.ZIP_CODE,
        r"\b(?P<v>\d{5}-\d{4})\b",
        0.6,
        0.85,
        ("zip", "postal", "address"),
    ),
)
