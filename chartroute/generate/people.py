"""The invented people of a synthetic practice: clinicians, staff and patients.

Names come from small fixed lists of invented given and family names, so generated data never
contains a real person and a PHI-leak scan can look for exactly these strings. Every attribute
of a patient is a pure function of (seed, patient index): an encounter can look up its
patient's payer or age without the generator holding the panel in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from .codes import PAYERS, Payer
from .seeding import stream_rng

STAFF_GIVEN_NAMES: tuple[str, ...] = (
    "Alvane", "Brisa", "Corwen", "Daxel", "Elowy", "Fenna", "Galven", "Hollis", "Ilora",
    "Jessamy", "Kelvar", "Lunet", "Morrow", "Nysa", "Orrin", "Pellam", "Quenby", "Rosalind",
    "Sorrel", "Tamsin",
)  # fmt: skip
STAFF_FAMILY_NAMES: tuple[str, ...] = (
    "Ashgrove", "Brambleton", "Coldwater", "Dunmere", "Elderbrook", "Farrowdale",
    "Glenhollow", "Hartwell", "Ivybridge", "Juniperfield", "Kestrelmoor", "Larkspur",
    "Marchbank", "Nettlefold", "Oakhaven", "Pennywhistle", "Quillfeather", "Rookwood",
    "Silverlake", "Thistledown",
)  # fmt: skip
PATIENT_GIVEN_NAMES: tuple[str, ...] = (
    "Abrielle", "Bastien", "Calloway", "Delphine", "Emrys", "Faelan", "Giselle", "Hadrian",
    "Isolde", "Joaquin", "Kaelith", "Leontyne", "Maelis", "Nicanor", "Oriane", "Peregrin",
    "Quillon", "Ravenna", "Solenne", "Thaddeus",
)  # fmt: skip
PATIENT_FAMILY_NAMES: tuple[str, ...] = (
    "Aldermoor", "Blackthorne", "Cindervale", "Duskwater", "Emberlyn", "Foxbrook",
    "Greywillow", "Hawkridge", "Ironvale", "Jadecliff", "Kingsmere", "Lowbarrow", "Mistvale",
    "Northcote", "Orchardleigh", "Pinecrest", "Quarrystone", "Ravensworth", "Stormholt",
    "Tidewell",
)  # fmt: skip
"""Patients and staff draw from disjoint lists, so a PHI scan can search output for patient
names without tripping over a clinician's name in a routing message (staff names are not PHI)."""

CHILD_PANEL_STRIDE = 5
"""Every fifth slot of a clinician's panel is a child, so well-child visits can find one."""


@dataclass(frozen=True, slots=True)
class PersonName:
    """An invented name."""

    given: str
    family: str

    @property
    def text(self) -> str:
        """Given then family name."""
        return f"{self.given} {self.family}"


def person_name(k: int) -> PersonName:
    """The k-th invented staff name; distinct for the first 400 values of k.

    The mapping (k mod 20, (k div 20 + k) mod 20) is a bijection on 0..399, so roster
    members (who are numbered consecutively) never share a name in practices of up to a few
    hundred people.
    """
    n_given, n_family = len(STAFF_GIVEN_NAMES), len(STAFF_FAMILY_NAMES)
    return PersonName(
        STAFF_GIVEN_NAMES[k % n_given], STAFF_FAMILY_NAMES[(k // n_given + k) % n_family]
    )


def practitioner_id(provider: int) -> str:
    """Practitioner id of the clinician with 0-based index ``provider``."""
    return f"prac-{provider + 1:03d}"


def patient_id(index: int) -> str:
    """Patient id of the patient with 0-based index ``index``."""
    return f"pat-{index + 1:05d}"


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the generator knows about one patient."""

    index: int
    name: PersonName
    gender: str
    birth_date: date
    payer: Payer
    provider: int

    @property
    def id(self) -> str:
        """The FHIR id."""
        return patient_id(self.index)


def panel_patient(provider: int, slot: int, providers: int) -> int:
    """Index of the patient in ``slot`` of a clinician's panel (panels interleave)."""
    return slot * providers + provider


def is_child_slot(slot: int) -> bool:
    """Whether a panel slot holds a child."""
    return slot % CHILD_PANEL_STRIDE == 0


@lru_cache(maxsize=16_384)
def patient_facts(seed: int, index: int, providers: int, reference_day: date) -> PatientFacts:
    """The patient with 0-based ``index``: a pure function of the seed and the index.

    Children are 0-12 years old at ``reference_day``; adults 18-92, a quarter of them 65 or
    older. Medicare covers the over-65s; Medicaid covers about half the children and a fifth
    of the other adults; the rest are with the commercial plan. A bounded cache spares
    re-deriving a patient seen again soon, without holding the whole panel.
    """
    rng = stream_rng(seed, "patient", index)
    provider = index % providers
    child = is_child_slot(index // providers)
    name = PersonName(rng.choice(PATIENT_GIVEN_NAMES), rng.choice(PATIENT_FAMILY_NAMES))
    gender = "female" if rng.random() < 0.52 else "male"
    if child:
        age_days = rng.randrange(30, 13 * 365)
    elif rng.random() < 0.25:
        age_days = rng.randrange(65 * 365, 93 * 365)
    else:
        age_days = rng.randrange(18 * 365, 65 * 365)
    birth = reference_day - timedelta(days=age_days)
    medicare, medicaid, commercial = PAYERS
    roll = rng.random()
    if age_days >= 65 * 365:
        payer = medicare
    elif (child and roll < 0.5) or (not child and roll < 0.2):
        payer = medicaid
    else:
        payer = commercial
    return PatientFacts(index, name, gender, birth, payer, provider)
