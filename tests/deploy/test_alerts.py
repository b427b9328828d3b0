"""``chartroute alerts create BLOCK`` refuses what cannot work before it talks to a server.

Creating the automation on a real server, and the alert it sends for a failed served run and
a failed by-hand ``chartroute sync``, is tested with the deployments
(tests/deploy/test_deployments.py).
"""

from __future__ import annotations

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from chartroute.cli.main import app


@pytest.mark.parametrize("block", ["slack-webhook", "/oncall", "slack-webhook/"])
def test_a_block_without_type_and_name_is_refused(block: str) -> None:
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        result = CliRunner().invoke(app, ["alerts", "create", block])
    assert result.exit_code == 2
    assert "expected '<block-type>/<name>'" in result.output


def test_without_a_server_address_nothing_is_created_on_a_temporary_one() -> None:
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        result = CliRunner().invoke(app, ["alerts", "create", "slack-webhook/oncall"])
    assert result.exit_code == 2
    assert "PREFECT_API_URL is not set" in result.output
