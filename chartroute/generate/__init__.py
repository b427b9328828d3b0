"""Deterministic synthetic primary-care practice: FHIR R4 NDJSON plus a practice config.

``generate_practice(out_dir, GeneratorProfile(...))`` writes a practice whose charts get
stuck for every reason chartroute classifies (unsigned notes, pending results, referral
letters and prior authorizations, coder queries, documentation gaps), as the EHR held them
at an as-of instant. Used by ``chartroute demo``, the tests and the benchmarks.
"""

from .practice import RESOURCE_TYPES, generate_practice
from .profile import GeneratorProfile
from .summary import GenerationSummary

__all__ = ["RESOURCE_TYPES", "GenerationSummary", "GeneratorProfile", "generate_practice"]
