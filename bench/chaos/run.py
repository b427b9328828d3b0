"""The chaos suite: kill -9 of sync and delivery, a flaky receiver, two syncs at once, an
unreachable database; each recovered run compared with a clean reference run.

    python bench/chaos/run.py [--db sqlite,postgresql] [--sync-kills 24] [--deliver-kills 12]
                              [--flaky 0.3] [--budget-seconds 1200] [--work DIR]

Loopback only: the receiver is a local signed-webhook server (it checks every signature and
counts messages per idempotency key), PostgreSQL is 127.0.0.1 (``CHARTROUTE_TEST_PG_URL``), and
the practice is a small generated one. Counts and time are bounded: the kills per database are
given, and the suite stops starting runs once ``--budget-seconds`` have passed. It prints one
table: runs, killed, recovered identical, lost, duplicated (receiver-side duplicates of one key
counted separately), unrecoverable.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.notify.servers import WebhookReceiver  # noqa: E402

WORKER = str(Path(__file__).with_name("worker.py"))
PG_ADMIN = os.environ.get(
    "CHARTROUTE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SECRET = "whsec-chaos"
SYNC_POINTS = ["migration:3", "migration:12", "lease:0", "scan:1", "scan:3", "classify:1",
               "deliver:1", "deliver:5"]  # fmt: skip


class FlakyReceiver(WebhookReceiver):
    """The test receiver, answering 503 to a share of requests when ``rate`` is set."""

    def __init__(self, secret: str) -> None:
        self.rate = 0.0
        self.rng = random.Random(17)
        self._down = False
        super().__init__(secret)

    @property  # type: ignore[override]
    def down(self) -> bool:
        return self._down or (self.rate > 0 and self.rng.random() < self.rate)

    @down.setter
    def down(self, value: bool) -> None:
        self._down = value

    def reset(self) -> None:
        with self.lock:
            self.raw.clear()
            self.accepted.clear()
            self.seen.clear()
            self.duplicates = 0
            self.bad_signatures = 0


@dataclass
class Tally:
    runs: int = 0
    killed: int = 0
    identical: int = 0
    lost: int = 0
    duplicated: int = 0
    receiver_duplicates: int = 0
    unrecoverable: int = 0
    notes: list[str] = field(default_factory=list)


class Databases:
    """A fresh database per run: a SQLite file, or a PostgreSQL database dropped afterwards."""

    def __init__(self, kind: str, work: Path) -> None:
        self.kind, self.work, self.made = kind, work, []  # type: ignore[var-annotated]

    def fresh(self) -> str:
        if self.kind == "sqlite":
            folder = self.work / f"db-{uuid.uuid4().hex[:8]}"
            folder.mkdir()
            return f"sqlite:///{folder / 'chartroute.db'}"
        name = f"chartroute_chaos_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.made.append(name)
        return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        if not self.made:
            return
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def worker(mode: str, url: str, ctx: dict[str, Any], point: str | None = None,
           kill_after: float | None = None, deliver: bool = True) -> tuple[int, float]:  # fmt: skip
    """Run the worker; SIGKILL it after ``kill_after`` seconds if given. (exit code, seconds)"""
    env = {**os.environ, "CR_CHAOS_WEBHOOK_SECRET": SECRET, "CHARTROUTE_HOME": str(ctx["home"])}
    if not deliver:
        env["CHAOS_NO_DELIVER"] = "1"
    args = [sys.executable, WORKER, mode, url, str(ctx["source"]), str(ctx["config"]),
            ctx["as_of"], *([point] if point else [])]  # fmt: skip
    began = time.monotonic()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = process.communicate(timeout=kill_after if kill_after is not None else 600)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        return -9, time.monotonic() - began
    if process.returncode not in (0, -9, 3, 4):
        ctx["errors"].append(err.decode(errors="replace").strip().splitlines()[-1:])
    return process.returncode, time.monotonic() - began


def snapshot(url: str) -> dict[str, Counter[Any]]:
    """Work items, their events and outbox rows: what a recovered run must match."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        found = {
            "work items": Counter(
                conn.execute(text("SELECT id, status, assignee, category FROM work_item")).all()
            ),
            "events": Counter(
                conn.execute(
                    text("SELECT work_item_id, event, assignee FROM work_item_event")
                ).all()
            ),
            "outbox": Counter(
                conn.execute(
                    text("SELECT message_key, channel, recipient FROM outbox_message")
                ).all()
            ),
            "unfinished runs": Counter(
                conn.execute(text("SELECT status FROM sync_run WHERE status = 'running'")).all()
            ),
        }
    engine.dispose()
    return found


def compare(tally: Tally, reference: dict[str, Counter[Any]], got: dict[str, Counter[Any]],
            label: str) -> None:  # fmt: skip
    lost = sum(((reference[k] - got[k]) for k in ("work items", "events", "outbox")), Counter())
    extra = sum(((got[k] - reference[k]) for k in ("work items", "events", "outbox")), Counter())
    if lost:
        tally.lost += sum(lost.values())
        tally.notes.append(f"{label}: lost {sum(lost.values())}")
    if extra:
        tally.duplicated += sum(extra.values())
        tally.notes.append(f"{label}: extra {sum(extra.values())}")
    if not lost and not extra and not got["unfinished runs"]:
        tally.identical += 1


def recover(mode: str, url: str, ctx: dict[str, Any], deliver: bool = True) -> bool:
    """Rerun until it completes (a killed holder's lease is taken over at once on this host)."""
    for _ in range(3):
        code, _ = worker(mode, url, ctx, deliver=deliver)
        if code in (0, 4):
            return True
        time.sleep(1)
    return False


def sync_kills(kind: str, count: int, ctx: dict[str, Any], dbs: Databases, deadline: float,
               rng: random.Random) -> Tally:  # fmt: skip
    """kill -9 of a sync at targeted points and random instants; recover; compare."""
    tally = Tally()
    receiver: FlakyReceiver = ctx["receiver"]
    url = dbs.fresh()
    receiver.reset()
    code, took = worker("sync", url, ctx)
    assert code == 0, ctx["errors"]
    reference, expected_keys = snapshot(url), set(receiver.seen)
    for n in range(count):
        if time.monotonic() > deadline:
            tally.notes.append(f"budget spent after {n} kills")
            break
        url = dbs.fresh()
        receiver.reset()
        if n % 2 == 0:
            point = SYNC_POINTS[(n // 2) % len(SYNC_POINTS)]
            code, _ = worker("sync", url, ctx, point=point)
        else:
            point = "random"
            code, _ = worker("sync", url, ctx, kill_after=rng.uniform(0.2, took))
        tally.runs += 1
        tally.killed += code == -9
        if not recover("sync", url, ctx):
            tally.unrecoverable += 1
            tally.notes.append(f"sync {point}: did not recover")
            continue
        compare(tally, reference, snapshot(url), f"sync {point}")
        missing = expected_keys - receiver.seen
        if missing:
            tally.lost += len(missing)
            tally.notes.append(f"sync {point}: {len(missing)} messages never received")
        tally.receiver_duplicates += receiver.duplicates
    return tally


def deliver_kills(kind: str, count: int, ctx: dict[str, Any], dbs: Databases, deadline: float,
                  rng: random.Random) -> tuple[Tally, dict[str, Any]]:  # fmt: skip
    """kill -9 of delivery after the Nth message reached the receiver; recover; compare."""
    tally = Tally()
    receiver: FlakyReceiver = ctx["receiver"]
    url = dbs.fresh()
    receiver.reset()
    worker("sync", url, ctx)
    expected = set(receiver.seen)
    extra: dict[str, Any] = {"messages": len(expected)}
    for n in range(count):
        if time.monotonic() > deadline:
            tally.notes.append(f"budget spent after {n} kills")
            break
        url = dbs.fresh()
        worker("sync", url, ctx, deliver=False)  # the same outbox, nothing sent yet
        receiver.reset()
        code, _ = worker("deliver", url, ctx, point=f"deliver:{rng.randint(1, len(expected))}")
        tally.runs += 1
        tally.killed += code == -9
        if not recover("deliver", url, ctx):
            tally.unrecoverable += 1
            continue
        missing = expected - receiver.seen
        tally.lost += len(missing)
        tally.receiver_duplicates += receiver.duplicates
        if not missing:
            tally.identical += 1
    # a receiver failing a share of requests: drained in one run?
    url = dbs.fresh()
    worker("sync", url, ctx, deliver=False)
    receiver.reset()
    receiver.rate = ctx["flaky"]
    code, took = worker("deliver", url, ctx)
    receiver.rate = 0.0
    extra.update(flaky_exit=code, flaky_received=len(receiver.seen), flaky_seconds=round(took, 1),
                 flaky_requests=len(receiver.raw))  # fmt: skip
    # two syncs at once on a new database: one runs, the other reports the lease or waits
    url = dbs.fresh()
    receiver.reset()
    env_ctx = dict(ctx)
    procs = [
        subprocess.Popen([sys.executable, WORKER, "sync", url, str(ctx["source"]),
                          str(ctx["config"]), ctx["as_of"]],
                         env={**os.environ, "CR_CHAOS_WEBHOOK_SECRET": SECRET,
                              "CHARTROUTE_HOME": str(env_ctx["home"])},
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(2)
    ]  # fmt: skip
    codes = sorted(p.wait(timeout=600) for p in procs)
    extra["concurrent_exits"] = codes
    return tally, extra


def unreachable_database(ctx: dict[str, Any]) -> tuple[int, int, float]:
    """``chartroute worklist`` against a closed port: exit code, stderr lines, seconds."""
    env = {**os.environ, "CHARTROUTE_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/none"}
    began = time.monotonic()
    done = subprocess.run([str(Path(sys.executable).with_name("chartroute")), "worklist"],
                          env=env, capture_output=True, timeout=120)  # fmt: skip
    lines = len(done.stderr.decode().strip().splitlines())
    return done.returncode, lines, round(time.monotonic() - began, 1)


def prepare(work: Path, receiver: FlakyReceiver) -> dict[str, Any]:
    from chartroute.generate import GeneratorProfile, generate_practice

    source = work / "practice"
    summary = generate_practice(source, GeneratorProfile(providers=2, days=3, seed=5))
    config_path = source / "practice.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["mode"] = "live"
    config.setdefault("notify", {})
    config["notify"]["channels"] = {
        "hook": {"type": "webhook", "url": receiver.url,
                 "secret": {"env": "CR_CHAOS_WEBHOOK_SECRET"},
                 "timeout_seconds": 10, "quiet_hours": False},
    }  # fmt: skip
    config["notify"]["default_channels"] = ["hook"]
    config["notify"].pop("recipients", None)
    config["notify"]["delivery"] = {"backoff_seconds": 0.2, "max_backoff_seconds": 5,
                                    "patience_seconds": 30, "lease_seconds": 30,
                                    "max_attempts": 20}  # fmt: skip
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    home = work / "home"
    home.mkdir()
    return {"source": source, "config": config_path, "as_of": summary.as_of.isoformat(),
            "home": home, "receiver": receiver, "errors": []}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--sync-kills", type=int, default=24)
    parser.add_argument("--deliver-kills", type=int, default=12)
    parser.add_argument("--flaky", type=float, default=0.3)
    parser.add_argument("--budget-seconds", type=float, default=1200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="chartroute-chaos-"))
    rng = random.Random(args.seed)
    receiver = FlakyReceiver(SECRET)
    began = time.monotonic()
    deadline = began + args.budget_seconds
    rows, extras = [], {}
    try:
        ctx = prepare(work, receiver)
        ctx["flaky"] = args.flaky
        for kind in args.db.split(","):
            dbs = Databases(kind, work)
            try:
                s = sync_kills(kind, args.sync_kills, ctx, dbs, deadline, rng)
                d, extra = deliver_kills(kind, args.deliver_kills, ctx, dbs, deadline, rng)
            finally:
                dbs.drop_all()
            rows += [(kind, "sync kill -9", s), (kind, "deliver kill -9", d)]
            extras[kind] = extra
        unreachable = unreachable_database(ctx)
    finally:
        receiver.stop()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'database':<11}{'scenario':<17}{'runs':>5}{'killed':>7}{'identical':>10}"
          f"{'lost':>6}{'dup':>5}{'rcv dup':>8}{'unrecov':>8}")  # fmt: skip
    for kind, scenario, t in rows:
        print(f"{kind:<11}{scenario:<17}{t.runs:>5}{t.killed:>7}{t.identical:>10}{t.lost:>6}"
              f"{t.duplicated:>5}{t.receiver_duplicates:>8}{t.unrecoverable:>8}")  # fmt: skip
    for kind, extra in extras.items():
        print(f"{kind}: {extra['messages']} messages per run; {args.flaky:.0%}-fault receiver: "
              f"{extra['flaky_received']} received in one run (exit {extra['flaky_exit']}, "
              f"{extra['flaky_requests']} requests, {extra['flaky_seconds']} s); two syncs at "
              f"once exited {extra['concurrent_exits']}")  # fmt: skip
    print(f"unreachable database: exit {unreachable[0]}, {unreachable[1]} line(s) on stderr, "
          f"{unreachable[2]} s")  # fmt: skip
    notes = [n for _, _, t in rows for n in t.notes] + [str(e) for e in ctx["errors"]]
    for note in notes[:20]:
        print("note:", note)
    load = Path("/proc/loadavg").read_text().strip()
    print(f"elapsed {time.monotonic() - began:.0f} s; load average {load}")


if __name__ == "__main__":
    main()
