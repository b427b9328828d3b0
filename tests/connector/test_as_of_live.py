"""``classify URL --as-of <past>`` over a live server: records changed since are not bad input.

A server stamps every record with the time it stored it, so a practice loaded today and read
as of yesterday has every record "changed after the as-of time". That is a fact about the
question asked, not a broken feed: exit 0, nothing quarantined, and the summary says how many
records' state at the as-of time this source cannot tell.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app
from chartroute.generate import GenerationSummary
from tests.connector.conftest import ehr_settings, write_practice_yaml
from tests.connector.sekmet import SekmetServer

pytestmark = pytest.mark.integration


def test_classify_a_live_server_as_of_yesterday(
    loaded_server: SekmetServer, practice: GenerationSummary, key_file: Path, tmp_path: Path
) -> None:
    ehr = ehr_settings(loaded_server.base_url, key_file, tmp_path)
    config_file = write_practice_yaml(practice, ehr, tmp_path / "practice.yaml")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    result = CliRunner().invoke(
        app,
        [
            "classify", loaded_server.base_url, "--config", str(config_file),
            "--as-of", yesterday, "--format", "jsonl",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "bad record" not in result.stderr
    assert "after the as-of time" not in result.stderr.split("records changed after")[0]
    found = re.search(r"(\d+) records changed after the as-of time", result.stderr)
    assert found is not None, result.stderr
    assert int(found.group(1)) > 100  # every record the server stored today
    assert "chartroute backfill" in result.stderr
