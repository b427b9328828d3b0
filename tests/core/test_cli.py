"""The classify command's contract (DESIGN.md): jsonl records, sort order, writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartroute.cli.main import app
from tests import builders as b
from tests.conftest import ROOT

CONFIG = str(ROOT / "config" / "practice.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_classify_jsonl_contract(tmp_path: Path) -> None:
    b.write_ndjson(
        tmp_path,
        [
            b.encounter("e2"),
            b.note("n2", "Encounter/e2", doc_status="preliminary"),
            b.encounter("e1", reason=False),
            b.note("n1"),
            b.order("s1"),
            b.encounter("e3"),
            b.note("n3", "Encounter/e3"),
        ],
    )
    code, out, _ = run(
        "classify", str(tmp_path), "--config", CONFIG, "--as-of", "2026-03-10", "--format", "jsonl"
    )
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["encounter"] for r in records] == ["Encounter/e1", "Encounter/e2"]
    assert records[0] == {
        "encounter": "Encounter/e1",
        "blockers": [
            {
                "category": "documentation-gap",
                "role": "medical-assistant",
                "assignee": "ma-casey",
                "reason": "pod",
                "evidence": ["Encounter/e1"],
                "detail": "missing chief complaint (Encounter.reasonCode or reasonReference)",
            },
            {
                "category": "pending-result",
                "role": "medical-assistant",
                "assignee": "ma-casey",
                "reason": "pod",
                "evidence": ["ServiceRequest/s1"],
                "detail": "lab order ServiceRequest/s1 (active) has no final result",
            },
        ],
    }
    assert records[1]["blockers"][0]["assignee"] == "dr-avery"
    assert records[1]["blockers"][0]["reason"] == "clinician"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "DocumentReference.ndjson",
        "Encounter.ndjson",
        "ServiceRequest.ndjson",
    ]


def test_classify_reads_bundles_with_uuid_references(tmp_path: Path) -> None:
    enc = b.encounter("e1")
    report = b.report("d1", "urn:uuid:22222222-0000-0000-0000-000000000000", status="preliminary")
    order = b.order("s1", "urn:uuid:11111111-0000-0000-0000-000000000000")
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:11111111-0000-0000-0000-000000000000", "resource": enc},
            {"fullUrl": "urn:uuid:22222222-0000-0000-0000-000000000000", "resource": order},
            {"fullUrl": "urn:uuid:33333333-0000-0000-0000-000000000000", "resource": report},
            {"fullUrl": "urn:uuid:44444444-0000-0000-0000-000000000000", "resource": b.note("n1")},
        ],
    }
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    code, out, _ = run(
        "classify", str(tmp_path), "--config", CONFIG, "--as-of", "2026-03-10", "--format", "jsonl"
    )
    assert code == 0
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert record["blockers"][0]["evidence"] == ["ServiceRequest/s1", "DiagnosticReport/d1"]


def test_ndjson_numbered_files_and_partitions(tmp_path: Path) -> None:
    from chartroute.sources import NdjsonDirSource

    lines = [json.dumps(b.encounter(f"e{i}")) for i in range(50)]
    (tmp_path / "Encounter.1.ndjson").write_text("\n".join(lines[:25]) + "\n")
    (tmp_path / "Encounter.2.ndjson").write_text("\n".join(lines[25:]) + "\n\n")
    (tmp_path / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "p"}\n')
    source = NdjsonDirSource(tmp_path, partition_bytes=2000)
    parts = source.partitions()
    assert len(parts) > 2
    records = [r for p in parts for r in source.read(p)]
    assert len(records) == 50
    assert records[0].location == "Encounter.1.ndjson:1"
    assert records[-1].location == "Encounter.2.ndjson:25"
    assert len({r.location for r in records}) == 50


def test_bad_source_and_bad_as_of_exit_2(tmp_path: Path) -> None:
    code, _, err = run("classify", str(tmp_path / "missing"), "--config", CONFIG)
    assert code == 2 and "not found" in err
    code, _, err = run("classify", str(tmp_path), "--config", CONFIG, "--as-of", "someday")
    assert code == 2 and "--as-of" in err


def test_bad_records_reported_on_stderr_good_charts_unchanged(tmp_path: Path) -> None:
    # 1 bad record in 41 stays under the default 5% bad-share threshold
    b.write_ndjson(
        tmp_path, [b.encounter(f"e{i}") for i in range(40)] + [b.order("s1", "Encounter/e0")]
    )
    _, clean, _ = run(
        "classify", str(tmp_path), "--config", CONFIG, "--as-of", "2026-03-10", "--format", "jsonl"
    )
    with (tmp_path / "Encounter.ndjson").open("a") as fh:
        fh.write("{broken\n")
    code, out, err = run(
        "classify", str(tmp_path), "--config", CONFIG, "--as-of", "2026-03-10", "--format", "jsonl"
    )
    assert code == 0 and out == clean
    assert "Encounter.ndjson:41" in err


def test_the_cli_gives_the_temporary_prefect_server_time_to_start() -> None:
    """A fresh machine's first temporary server took over Prefect's 20 s default to start and
    failed `chartroute demo`; the CLI raises the limit unless the user set one."""
    import os
    import subprocess
    import sys

    probe = (
        "import chartroute.cli.main\n"
        "from prefect.settings import get_current_settings\n"
        "print(get_current_settings().server.ephemeral.startup_timeout_seconds)\n"
    )
    env = {k: v for k, v in os.environ.items() if "EPHEMERAL_STARTUP" not in k}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "120"
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "45"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "45"


def test_demo_hint_names_a_command_that_runs_without_an_activated_venv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from chartroute.cli.practice_home import how_to_run

    monkeypatch.setenv("PATH", str(tmp_path))  # no chartroute on PATH: the venv is not active
    monkeypatch.chdir(tmp_path)
    command = how_to_run()
    assert command != "chartroute"
    done = subprocess.run(
        [*command.split(), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and "worklist" in done.stdout
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    assert how_to_run() == "chartroute"
