"""The official HL7 FHIR R4 examples (npm ``hl7.fhir.r4.examples``) run through the sync's
ingest and validate stages without a crash: every resource is stored or quarantined with a
reason, and the accounting adds up.

``scripts/test-setup.sh`` installs the package under ``.cache/hl7``; ``CHARTROUTE_HL7_EXAMPLES``
may point at another copy. Without it the test is skipped, except in CI where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chartroute.fhir.extract import RULE_RESOURCE_TYPES
from chartroute.store.quarantine import location_key
from tests.conftest import ROOT
from tests.validation.helpers import held, ingest, stored_keys

pytestmark = pytest.mark.slow

DEFAULT = ROOT / ".cache" / "hl7" / "node_modules" / "hl7.fhir.r4.examples"


def examples_folder() -> Path:
    folder = Path(os.environ.get("CHARTROUTE_HL7_EXAMPLES", DEFAULT))
    if not (folder / "Encounter-example.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"HL7 R4 examples not installed at {folder}: run scripts/test-setup.sh")
        pytest.skip(f"HL7 R4 examples not installed at {folder}: run scripts/test-setup.sh")
    return folder


def bulk_layout(examples: Path, target: Path) -> list[tuple[str, str]]:
    """Every example resource of a type the rules read as NDJSON, plus every Bundle as is.

    Returns (resource key, location) of each NDJSON line written.
    """
    target.mkdir()
    lines: dict[str, list[str]] = {}
    written = []
    for path in sorted(examples.glob("*.json")):
        resource = json.loads(path.read_text())
        rtype = resource.get("resourceType") if isinstance(resource, dict) else None
        if rtype == "Bundle":
            shutil.copy(path, target / path.name)
        elif rtype in RULE_RESOURCE_TYPES:
            file = f"{rtype}.ndjson"
            lines.setdefault(file, []).append(json.dumps(resource))
            written.append((f"{rtype}/{resource.get('id')}", f"{file}:{len(lines[file])}"))
    for file, content in lines.items():
        (target / file).write_text("\n".join(content) + "\n")
    return written


def test_every_example_is_stored_or_quarantined_with_a_reason(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    written = bulk_layout(examples_folder(), tmp_path / "feed")
    assert len(written) > 80
    _, counts = ingest(sqlite_engine, tmp_path / "feed", datetime.now(UTC))
    assert counts.read == counts.stored + counts.quarantined + counts.skipped_types
    assert counts.stored > counts.quarantined > 0  # the examples are not all primary-care shaped
    stored, quarantine = stored_keys(sqlite_engine), held(sqlite_engine)
    for key, location in written:
        in_quarantine = key in quarantine or location_key(location) in quarantine
        assert key in stored or in_quarantine, (key, location)
    for record in quarantine.values():
        assert record.reasons and all(reason.strip() for reason in record.reasons), record.key
        assert record.location
