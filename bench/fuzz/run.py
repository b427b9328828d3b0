"""The long fuzz run of issue 18: mutated feeds through a whole sync on SQLite and PostgreSQL.

Each round writes one mutated feed (``tests/validation/mutations.py``: truncation, wrong types,
huge and deep values, odd unicode, invalid dates, broken references, conflicting duplicates,
a record of another type than its file, BOM, CRLF, blank lines, misnamed files), syncs it on a
fresh SQLite file and on a truncated PostgreSQL database, and counts:

- crashes: an exception out of any stage (plan, ingest, validate, classify, snapshot);
- silently dropped: a record read that was neither stored, quarantined nor counted as skipped,
  or a file not read and not named;
- disagreements: SQLite and PostgreSQL gave different answers (counts, stored keys, held keys
  and reasons, work items);
- wrong exit codes: ``chartroute classify`` on the feed must exit 0, or 2 exactly when the bad
  share passes the practice's limit (rounds alternate a light and a heavy share of bad
  records), never 1; plus hostile practice files and folders, each of which must exit 2.

    .venv/bin/python bench/fuzz/run.py --records 10000 --round-size 1000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from chartroute.cli.main import app  # noqa: E402
from chartroute.config import load_config  # noqa: E402
from chartroute.store.engine import make_engine  # noqa: E402
from chartroute.validation.threshold import BadShare  # noqa: E402
from tests.conftest import AS_OF, _truncate  # noqa: E402
from tests.validation.fuzz_harness import Outcome, run_feed, write_feed  # noqa: E402
from tests.validation.mutations import mutated_feed  # noqa: E402

PRACTICE = ROOT / "config" / "practice.yaml"
PG_ADMIN = os.environ.get("CHARTROUTE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--round-size", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "fuzz.json")
    args = parser.parse_args()
    config = load_config(PRACTICE)
    started = time.perf_counter()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    pg_url, admin = _pg_database()
    pg = make_engine(pg_url)
    totals: Counter[str] = Counter()
    families: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    rng = random.Random(args.seed)
    round_no = 0
    try:
        while totals["records written"] < args.records:
            round_no += 1
            seed = rng.randrange(2**32)
            heavy = round_no % 2 == 0
            feed = mutated_feed(random.Random(seed), args.round_size, 0.3 if heavy else 0.02)
            families.update(feed.families)
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) / "feed"
                write_feed(folder, feed)
                lite = _sqlite(folder, config, Path(tmp))
                _truncate(pg)
                post = run_feed(pg, folder, config, AS_OF)
                code, expected = _classify_exit(folder, lite, config.validation.max_bad_share)
            totals["rounds"] += 1
            totals["records written"] += _lines(feed.files)
            for name, outcome in (("sqlite", lite), ("postgresql", post)):
                totals[f"records read ({name})"] += outcome.read
                totals[f"stored ({name})"] += outcome.stored
                totals[f"quarantined ({name})"] += outcome.quarantined
                totals[f"skipped ({name})"] += outcome.skipped
                totals[f"crashes ({name})"] += outcome.crash is not None
                totals[f"silently dropped ({name})"] += len(outcome.unaccounted)
                if outcome.crash or outcome.unaccounted:
                    failures.append(
                        {
                            "seed": seed,
                            "db": name,
                            "crash": outcome.crash,
                            "unaccounted": outcome.unaccounted[:10],
                        }
                    )
            if lite.crash is None and post.crash is None and lite.answers() != post.answers():
                totals["disagreements"] += 1
                failures.append({"seed": seed, "db": "both", "disagree": True})
            totals["classify runs"] += 1
            totals["wrong exit codes"] += code != expected
            if code != expected:
                failures.append({"seed": seed, "classify_exit": code, "expected": expected})
            print(
                f"round {round_no}: seed {seed}, {'heavy' if heavy else 'light'}, "
                f"read {lite.read}, crashes {totals['crashes (sqlite)']}/"
                f"{totals['crashes (postgresql)']}, dropped "
                f"{totals['silently dropped (sqlite)']}/{totals['silently dropped (postgresql)']}, "
                f"exit {code} (expected {expected})",
                flush=True,
            )
        hostile = _hostile_inputs()
        totals["hostile inputs"] = len(hostile)
        totals["wrong exit codes"] += sum(code != 2 for _, code in hostile)
        failures.extend({"hostile": name, "exit": code} for name, code in hostile if code != 2)
    finally:
        pg.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()
    result = {
        "command": " ".join(["bench/fuzz/run.py", *sys.argv[1:]]),
        "seconds": round(time.perf_counter() - started, 1),
        "loadavg_before": load_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "totals": dict(totals),
        "families": dict(families),
        "failures": failures[:50],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "failures"}, indent=2))
    print(f"{len(failures)} failures (first ones in {args.out})")


def _pg_database() -> tuple[str, Any]:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"chartroute_fuzz_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", admin


def _sqlite(folder: Path, config: Any, tmp: Path) -> Outcome:
    engine = make_engine(f"sqlite:///{tmp / 'db.sqlite'}")
    try:
        return run_feed(engine, folder, config, AS_OF)
    finally:
        engine.dispose()


def _lines(files: dict[str, bytes]) -> int:
    return sum(
        sum(1 for line in content.split(b"\n") if line.strip())
        for name, content in files.items()
        if name.endswith((".ndjson", ".json"))
    )


def _classify_exit(folder: Path, outcome: Outcome, limit: float) -> tuple[int, int]:
    """classify's exit code, and the one it must give (from the sync's own counts)."""
    result = CliRunner().invoke(
        app, ["classify", str(folder), "--config", str(PRACTICE), "--as-of", AS_OF.isoformat()]
    )
    expected = 2 if BadShare(outcome.read, outcome.quarantined, limit).exceeded else 0
    return result.exit_code, expected


def _hostile_inputs() -> list[tuple[str, int]]:
    """Practice files and folders that must each exit 2 (bad input), never 0 or 1."""
    practice = PRACTICE.read_text()
    bomb = "\n".join(
        [f"a: &a [{', '.join(['lol'] * 9)}]"]
        + [
            f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]"
            for p, n in zip("abcdef", "bcdefg", strict=True)
        ]
    )
    smtp = (
        practice + "\nnotify:\n  channels:\n    email: {type: smtp, host: smtp.example.org, "
        "security: none, from: a@example.org, username: u, password: {env: P}}\n"
    )
    configs = {
        "alias bomb": bomb,
        "5,000 nested [": "x: " + "[" * 5000 + "]" * 5000,
        "smtp password in clear text": smtp,
    }
    out: list[tuple[str, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, body in configs.items():
            path = Path(tmp) / "practice.yaml"
            path.write_text(body)
            result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
            out.append((f"config check: {name}", result.exit_code))
        empty = Path(tmp) / "empty"
        empty.mkdir()
        misnamed = Path(tmp) / "misnamed"
        misnamed.mkdir()
        (misnamed / "Encounters.ndjson").write_text('{"resourceType":"Encounter","id":"e1"}\n')
        for folder in (empty, misnamed):
            result = CliRunner().invoke(app, ["classify", str(folder), "--config", str(PRACTICE)])
            out.append((f"classify: {folder.name} folder", result.exit_code))
        existing = Path(tmp) / "afile"
        existing.write_text("x")
        result = CliRunner().invoke(app, ["generate", str(existing), "--days", "1"])
        out.append(("generate onto a file", result.exit_code))
    return out


if __name__ == "__main__":
    main()
