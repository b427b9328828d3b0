"""Sync throughput as the user waits for it: whole ``chartroute`` processes against a raw read.

One run, interleaved rounds (every phase once, then again), medians. Each phase is its own
process, measured from spawn to exit: wall time, CPU seconds and peak RSS of that child (from
``os.wait4``), and the CPU seconds the flows cost the Prefect server meanwhile. Phases, all over
the same generated export (``chartroute generate``, 18 visits per clinician per clinic day):

- raw: ``orjson.loads`` of every line of the files the sync reads, in a bare process (ceiling);
- classify: ``chartroute classify`` (the in-memory preview, no database);
- sync-sqlite / sync-pg: ``chartroute sync`` on a fresh SQLite file / PostgreSQL database;
- rerun-unchanged: ``chartroute sync`` again on that SQLite database, nothing changed;
- rerun-1pct: ``chartroute sync`` again after the generator's next clinic day replaced the
  files (the same seed and start, ``--as-of`` one clinic day later: new visits and the changes
  to earlier ones, as an EHR's next export);
- rerun-delta: the same next day as an EHR's incremental (``_since``) Bulk export gives it: the
  base files stay and one more part per type holds only the new and changed records;
- naive: one Prefect task per chart classifying the same charts (``bench/naive_flow.py``).

``--age-store-days N`` moves the synced store's facts N days into the past before the reruns,
so the next day meets a store that looks like a practice's after its first days, not one
loaded minutes before (what a sync finds by storage time then costs what it would there).

The flows run against a Prefect server this script starts on 127.0.0.1 (``chartroute server
start`` in a home of its own) unless ``--prefect-api-url`` names one. Targets are issue 19's.

    .venv/bin/python bench/sync_bench.py --providers 5 --days 112 --rounds 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sync_bench_measure import Measured, loadavg, measure, scratch_postgres, settle  # noqa: E402
from sync_bench_table import PHASES, render, summarise, targets  # noqa: E402

CHARTROUTE = str(Path(sys.executable).parent / "chartroute")
PRACTICE_TZ = ZoneInfo("America/New_York")  # the generator's default practice time zone
#: the run's closing summary line (partition lines say "read N records" too)
SYNCED = re.compile(r"sync \S+: read (\d+) records.*?(\d+) charts classified", re.S)
NEEDS_SQLITE = {"rerun-unchanged", "rerun-1pct", "rerun-delta"}


def clinic_days_back(end: date, days: int) -> list[date]:
    """The ``days`` weekdays ending on ``end``, oldest first."""
    out: list[date] = []
    while len(out) < days:
        if end.weekday() < 5:
            out.append(end)
        end -= timedelta(days=1)
    return out[::-1]


def generate(work: Path, providers: int, days: int, seed: int) -> tuple[Path, Path]:
    """The export after ``days`` clinic days and the same export one clinic day later.

    Both are drawn over ``days + 1`` clinic days ending on the last weekday before today, so
    the second is the first plus the next day's visits and whatever changed in the older ones.
    """
    horizon = clinic_days_back(date.today() - timedelta(days=1), days + 1)
    root = work / "data" / f"p{providers}-d{days}-s{seed}-{horizon[-1]}"
    folders = []
    for name, day in (("base", horizon[-2]), ("next", horizon[-1])):
        folder = root / name
        folders.append(folder)
        if (folder / "generator.json").exists():
            continue
        as_of = datetime.combine(day, clock(18), PRACTICE_TZ).isoformat()
        command = [CHARTROUTE, "generate", str(folder), "--providers", str(providers)]
        command += ["--days", str(days + 1), "--seed", str(seed), "--start", str(horizon[0])]
        subprocess.run([*command, "--as-of", as_of], check=True)
    return folders[0], folders[1]


def read_files(folder: Path) -> list[Path]:
    """The NDJSON files of ``folder`` that a sync reads (the rules' resource types)."""
    from chartroute.sources.file_names import is_read

    return [p for p in sorted(folder.glob("*.ndjson")) if is_read(p.name)]


def changed_records(base: Path, nxt: Path) -> tuple[int, int]:
    """Lines of the next day's files that are not in the base files, and all its lines."""
    seen = {
        hashlib.blake2b(line, digest_size=16).digest()
        for p in read_files(base)
        for line in p.open("rb")
    }
    total = changed = 0
    for path in read_files(nxt):
        for line in path.open("rb"):
            total += 1
            changed += hashlib.blake2b(line, digest_size=16).digest() not in seen
    return changed, total


def write_delta_parts(base: Path, nxt: Path, target: Path) -> list[Path]:
    """One more part per type in ``target``: the next day's lines not in the base files."""
    seen = {
        hashlib.blake2b(line, digest_size=16).digest()
        for p in read_files(base)
        for line in p.open("rb")
    }
    parts: list[Path] = []
    for path in read_files(nxt):
        fresh = [
            line
            for line in path.open("rb")
            if hashlib.blake2b(line, digest_size=16).digest() not in seen
        ]
        if fresh:
            type_name = path.name.split(".")[0]
            parts.append(target / f"{type_name}.2.ndjson")
            parts[-1].write_bytes(b"".join(fresh))
    return parts


def age_store(database: Path, days: int) -> None:
    """Make a freshly loaded SQLite store look ``days`` days old: every fact's ``synced_at``
    moved back. A store loaded minutes before the next day's sync has every fact "stored
    today", which no practice's store has after its first day; what a sync reads by storage
    time (the orphan count, the day's signed notes) is then measured as a practice pays it."""
    import sqlite3

    with sqlite3.connect(database) as conn:
        conn.execute(  # the stored form: 'YYYY-MM-DD HH:MM:SS.ffffff' (bench: not the app's SQL)
            "UPDATE fact SET synced_at = datetime(synced_at, ?) || substr(synced_at, 20)",
            (f"-{days} days",),
        )


def link_copy(source: Path, target: Path) -> None:
    """``target`` holds ``source``'s files as hard links (no copying), replacing any there."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        temporary = target / f".{path.name}.new"
        temporary.unlink(missing_ok=True)
        os.link(path, temporary)
        os.replace(temporary, target / path.name)


class Bench:
    """The rounds of one run: each phase's measured processes, and what they reported."""

    def __init__(self, args: argparse.Namespace, base: Path, nxt: Path, env: dict[str, str]):
        self.args, self.base, self.next, self.env = args, base, nxt, env
        self.server_pgid: int | None = None
        self.failures: list[dict[str, Any]] = []
        self.rounds = args.work / f"rounds-{base.parent.name}"
        self.samples: dict[str, list[dict[str, Any]]] = {p: [] for p in args.phases}
        self.records = sum(1 for p in read_files(base) for line in p.open("rb") if line.strip())

    def run(self, phase: str, command: list[str], logs: Path, **env: str) -> Measured | None:
        """The phase's process, or None when it failed (counted and said, not timed)."""
        waited = settle(self.server_pgid)  # so the server's CPU seconds are this phase's
        if waited > 5:
            print(f"  waited {waited:.0f} s for a quiet server", file=sys.stderr, flush=True)
        done = measure(command, {**self.env, **env}, logs, self.server_pgid)
        if done.exit_code == 0:
            return done
        last = (done.stderr.strip().splitlines() or [""])[-1][:300]
        self.failures.append({"phase": phase, "exit_code": done.exit_code, "last_line": last})
        print(f"  {phase} FAILED (exit {done.exit_code}): {last}", file=sys.stderr, flush=True)
        return None

    def keep(self, phase: str, done: Measured, **extra: Any) -> None:
        row = {k: getattr(done, k) for k in ("wall_s", "cpu_s", "peak_mb", "server_cpu_s")}
        self.samples[phase].append({**row, **extra, "loadavg": loadavg()})
        print(f"  {phase}: {done.wall_s:.2f} s wall, {done.cpu_s:.2f} CPU s, "
              f"{done.peak_mb:.0f} MB, {extra}", file=sys.stderr, flush=True)  # fmt: skip

    def sync(self, phase: str, source: Path, logs: Path, **env: str) -> bool:
        """Run one sync and keep its figures; False when it failed."""
        command = [CHARTROUTE, "sync", "--source", str(source)]
        done = self.run(phase, [*command, "--config", str(source / "practice.yaml")], logs, **env)
        if done is None:
            return False
        found = SYNCED.search(done.stderr)
        counts = {"records": int(found[1]), "charts": int(found[2])} if found else {}
        if phase in self.samples:
            self.keep(phase, done, **counts)
        return True

    def round(self, number: int) -> None:
        """Every phase once, in order; a rerun only after its store's first sync succeeded."""
        phases, work = self.args.phases, self.rounds / f"r{number}"
        shutil.rmtree(work, ignore_errors=True)
        print(f"round {number} (load average {loadavg()})", file=sys.stderr, flush=True)
        if "raw" in phases:
            command = [sys.executable, str(HERE / "raw_read.py")]
            done = self.run("raw", command + [str(p) for p in read_files(self.base)], work / "raw")
            if done is not None:
                read = json.loads(done.stdout)  # loop_s: the decode loop without start-up
                self.keep("raw", done, records=read["records"], loop_s=read["seconds"])
        if "classify" in phases:
            command = [CHARTROUTE, "classify", str(self.base), "--format", "jsonl"]
            command += ["--config", str(self.base / "practice.yaml")]
            home = work / "classify-home"
            done = self.run("classify", command, work / "classify", CHARTROUTE_HOME=str(home))
            if done is not None:
                self.keep("classify", done, records=self.records)
        home, source = work / "sqlite-home", work / "source"
        sqlite = {
            "CHARTROUTE_HOME": str(home),
            "CHARTROUTE_DATABASE_URL": f"sqlite:///{home / 'chartroute.db'}",
        }
        synced = False
        if phases & ({"sync-sqlite"} | NEEDS_SQLITE):
            link_copy(self.base, source)
            synced = self.sync("sync-sqlite", source, work / "sync-sqlite", **sqlite)
        if "sync-pg" in phases:
            with scratch_postgres(self.args.pg_admin_url) as url:
                pg = {"CHARTROUTE_HOME": str(work / "pg-home"), "CHARTROUTE_DATABASE_URL": url}
                self.sync("sync-pg", self.base, work / "sync-pg", **pg)
        if synced and self.args.age_store_days:
            age_store(home / "chartroute.db", self.args.age_store_days)
        if "rerun-unchanged" in phases and synced:
            synced = self.sync("rerun-unchanged", source, work / "rerun-unchanged", **sqlite)
        if "rerun-delta" in phases and synced:
            # A copy of the synced store reads the parts in the same folder (a folder's cursors
            # are named by its path); the parts go again before the whole-file rerun below.
            delta_home = work / "delta-home"
            shutil.copytree(home, delta_home)
            parts = write_delta_parts(self.base, self.next, source)
            delta = {
                "CHARTROUTE_HOME": str(delta_home),
                "CHARTROUTE_DATABASE_URL": f"sqlite:///{delta_home / 'chartroute.db'}",
            }
            self.sync("rerun-delta", source, work / "rerun-delta", **delta)
            for part in parts:
                part.unlink()
        if "rerun-1pct" in phases and synced:
            link_copy(self.next, source)
            self.sync("rerun-1pct", source, work / "rerun-1pct", **sqlite)
        if "naive" in phases:
            command = [sys.executable, str(HERE / "naive_flow.py"), str(self.base)]
            command += ["--charts", str(self.args.naive_charts)]
            home = work / "naive-home"
            done = self.run("naive", command, work / "naive", CHARTROUTE_HOME=str(home))
            if done is not None:
                out = json.loads(done.stdout.strip().splitlines()[-1])
                self.keep("naive", done, charts=out["charts"], flow_s=out["flow_seconds"])


def start_server(work: Path, env: dict[str, str]) -> tuple[str, int]:
    """``chartroute server start`` in the bench's own home: its API URL and process group."""
    from chartroute.cli.prefect_server import _any_free_port

    port = _any_free_port()
    subprocess.run([CHARTROUTE, "server", "start", "--port", str(port)], env=env, check=True)
    state = json.loads((work / "server-home" / "prefect-server.json").read_text())
    return f"http://127.0.0.1:{state['port']}/api", int(state["pid"])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=5)
    parser.add_argument("--days", type=int, default=112, help="clinic days before the next one")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--phases", default=",".join(PHASES), help="comma-separated subset of: " + ", ".join(PHASES)
    )
    parser.add_argument("--work", type=Path, default=HERE / "out" / "sync")
    parser.add_argument("--json", type=Path, help="write the samples and medians here")
    parser.add_argument("--compare", type=Path, help="--json of a run at another size")
    parser.add_argument(
        "--naive-charts", type=int, default=0, help="charts for the naive flow (0: all)"
    )
    parser.add_argument("--prefect-api-url", help="use this Prefect server instead of starting one")
    parser.add_argument(
        "--age-store-days",
        type=int,
        default=0,
        help="before the reruns, move the SQLite store's facts this many days into the past",
    )
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = sorted(set(phases) - set(PHASES))
    if unknown:
        parser.error(f"--phases: unknown {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    args.phases = set(phases)
    args.work = args.work.resolve()
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CHARTROUTE_", "PREFECT_API_URL"))
    }
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env["PREFECT_HOME"] = str(args.work / "prefect")
    base, nxt = generate(args.work, args.providers, args.days, args.seed)
    changed, next_total = changed_records(base, nxt)
    server_env = {**env, "CHARTROUTE_HOME": str(args.work / "server-home")}
    needs_server = bool(
        args.phases & {"sync-sqlite", "sync-pg", "naive"} | NEEDS_SQLITE & args.phases
    )
    pgid = None
    if args.prefect_api_url:
        env["PREFECT_API_URL"] = args.prefect_api_url
    elif needs_server:
        env["PREFECT_API_URL"], pgid = start_server(args.work, server_env)
    bench = Bench(args, base, nxt, env)
    bench.server_pgid = pgid
    before, began = loadavg(), time.time()
    try:
        for number in range(1, args.rounds + 1):
            bench.round(number)
    finally:
        after = loadavg()
        if pgid is not None:
            subprocess.run([CHARTROUTE, "server", "stop"], env=server_env, check=False)
    encounters = json.loads((base / "generator.json").read_text())["encounters"]
    meta = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "loadavg_before": before,
        "loadavg_after": after,
        "elapsed_s": round(time.time() - began),
        "encounters": encounters,
        "records": bench.records,
        "next_day": {"records": next_total, "new_or_changed": changed},
        "prefect_server": env.get("PREFECT_API_URL"),
        "failures": bench.failures,
    }
    summary = summarise(bench.samples)
    other = None
    if args.compare:
        other = summarise(json.loads(args.compare.read_text())["samples"])
    print(
        f"{encounters:,} encounters, {bench.records:,} records in the files a sync reads; "
        f"the next day: {changed:,} of {next_total:,} records new or changed "
        f"({changed / next_total:.1%}); load average {before} before, {after} after; "
        f"{meta['elapsed_s']} s"
    )
    for failed in bench.failures:
        print(f"failed, not timed: {failed['phase']} (exit {failed['exit_code']}): "
              f"{failed['last_line']}")  # fmt: skip
    print(render(summary, targets(summary, other)))
    if args.json:
        dump = {
            "meta": meta,
            "samples": bench.samples,
            "medians": {k: vars(v) for k, v in summary.items()},
        }
        args.json.write_text(json.dumps(dump, indent=2) + "\n")


if __name__ == "__main__":
    main()
