"""How long the operator waits for a command: read commands and flow commands, 10k encounters.

Targets (issue 15): commands that only read the store answer in at most 1.5 s; ``sweep`` and
``report`` in at most 5 s with the home's local Prefect server running. Each command runs as
the operator runs it: a fresh ``chartroute`` process, output piped, in a practice home filled
once by an in-process sync of a generated practice. Commands are interleaved round by round, so
the load of the machine falls on all of them alike; the figures are the median and the best of
the rounds. One ``sweep`` without any server shows what the temporary server cost before.

    .venv/bin/python bench/cli_latency.py --providers 5 --days 112 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHARTROUTE = str(Path(sys.executable).parent / "chartroute")
READS = [
    ["worklist"],
    ["outbox"],
    ["quarantine"],
    ["config", "check"],
    ["review", "report"],
]
FLOWS = [["sweep"], ["report", "--no-snapshot"]]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def clinic_start(days: int) -> date:
    day, count = date.today(), 1
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    while count < days:
        day -= timedelta(days=1)
        count += day.weekday() < 5
    return day


def fill(home: Path, providers: int, days: int) -> int:
    """Generate the practice and sync it in this process (once per output folder)."""
    os.environ["CHARTROUTE_HOME"] = str(home)
    from chartroute.cli.practice_home import record_home_default
    from chartroute.config import load_config
    from chartroute.generate import GeneratorProfile, generate_practice
    from chartroute.sources import NdjsonDirSource
    from chartroute.store.engine import make_engine
    from chartroute.sync_here import SyncHere
    from chartroute.sync_sequence import run_sync

    practice = home / "bench-practice"
    profile = GeneratorProfile(providers=providers, days=days, seed=1, start=clinic_start(days))
    summary = generate_practice(practice, profile)
    config = load_config(practice / "practice.yaml")
    engine = make_engine()
    as_of = datetime.now(UTC)
    run_sync(SyncHere(engine, NdjsonDirSource(practice), config, as_of), config, deliver=False)
    record_home_default(practice / "practice.yaml")
    return summary.encounters


def timed(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        [CHARTROUTE, *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return elapsed


def rounds(commands: list[list[str]], env: dict[str, str], n: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {" ".join(c): [] for c in commands}
    for _ in range(n):
        for command in commands:
            times[" ".join(command)].append(timed(command, env))
    return times


def rows(times: dict[str, list[float]], target: float) -> list[str]:
    return [
        f"| `chartroute {name}` | {statistics.median(t):.2f} | {min(t):.2f} | {target:.1f} | "
        f"{'yes' if statistics.median(t) <= target else 'no'} |"
        for name, t in times.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=5)
    parser.add_argument("--days", type=int, default=112)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "cli_latency")
    parser.add_argument("--no-temporary", action="store_true", help="Skip the no-server sweep.")
    args = parser.parse_args()

    home = args.out.resolve() / "home"
    encounters = None
    if not (home / "chartroute.db").exists():
        began = time.perf_counter()
        encounters = fill(home, args.providers, args.days)
        print(f"filled {home}: {encounters} encounters in {time.perf_counter() - began:.0f} s")
    env = {**os.environ, "CHARTROUTE_HOME": str(home), "DO_NOT_TRACK": "1"}
    for name in ("CHARTROUTE_DATABASE_URL", "CHARTROUTE_CONFIG", "PREFECT_API_URL"):
        env.pop(name, None)
    env.setdefault("PREFECT_HOME", str(args.out.resolve() / "prefect"))

    print(f"load average before: {loadavg()}")
    reads = rounds(READS, env, args.rounds)
    temporary: float | None = None
    if not args.no_temporary:
        temporary = timed(["sweep"], env)
    from chartroute.cli.prefect_server import _any_free_port

    port = str(_any_free_port())
    subprocess.run([CHARTROUTE, "server", "start", "--port", port], env=env, check=True)
    try:
        flows = rounds(FLOWS, env, args.rounds)
    finally:
        subprocess.run([CHARTROUTE, "server", "stop"], env=env, check=False)
    print(f"load average after: {loadavg()}")
    print("| command | median s | best s | target s | met |")
    print("|---|---:|---:|---:|---|")
    print("\n".join(rows(reads, 1.5) + rows(flows, 5.0)))
    if temporary is not None:
        print(f"| `chartroute sweep`, no server (temporary one) | {temporary:.2f} | | | |")


if __name__ == "__main__":
    main()
