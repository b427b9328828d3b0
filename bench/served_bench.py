"""A scheduled next-day sync as ``chartroute serve`` runs it: started cold or forked warm.

One run, interleaved: ``chartroute serve`` with each run spawned as Prefect does by default
(``CHARTROUTE_SERVE_FORK=0``: a new interpreter imports everything) and with runs forked from
its fork server (the default), ``--runs`` runs each per round, then a ``chartroute sync`` CLI
process on the same next day for comparison. Every run starts from the same store — the base
export synced once by the CLI, copied back before each run — and reads the same next day as
an incremental export part (``sync_bench.write_delta_parts``). A served run is timed from
the state the runner sets before it starts the run's process (Pending) to its last state
(Completed), as the Prefect server records them; a CLI run from spawn to exit.

    .venv/bin/python bench/served_bench.py --providers 50 --days 112 --rounds 2 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from sync_bench import (  # noqa: E402
    CHARTROUTE,
    generate,
    read_files,
    start_server,
    write_delta_parts,
)
from sync_bench_measure import loadavg, measure  # noqa: E402

SYNC_DEPLOYMENT = "chartroute-sync/sync"


class Store:
    """The synced base store, and the source folder whose path its cursors name."""

    def __init__(self, work: Path, base: Path, nxt: Path, env: dict[str, str]):
        self.work, self.base, self.env = work, base, env
        self.source, self.pristine, self.home = work / "src", work / "pre", work / "home"
        self.parts = work / "parts"
        self.links(with_parts=False)
        shutil.rmtree(self.pristine, ignore_errors=True)
        home = {**env, "CHARTROUTE_HOME": str(self.pristine)}
        synced = measure(self.sync_command(), home, work / "logs" / "base-sync")
        if synced.exit_code != 0:
            raise SystemExit(f"the base sync failed:\n{synced.stderr[-3000:]}")
        self.full_sync_s = synced.wall_s
        shutil.rmtree(self.parts, ignore_errors=True)
        self.parts.mkdir()
        write_delta_parts(base, nxt, self.parts)

    def sync_command(self) -> list[str]:
        return [CHARTROUTE, "sync", "--source", str(self.source), "--config", self.config()]

    def config(self) -> str:
        return str(self.source / "practice.yaml")

    def links(self, *, with_parts: bool) -> None:
        shutil.rmtree(self.source, ignore_errors=True)
        self.source.mkdir(parents=True)
        for path in self.base.iterdir():
            os.link(path, self.source / path.name)
        for path in self.parts.iterdir() if with_parts else ():
            os.link(path, self.source / path.name)

    def reset(self) -> None:
        """The store as the base sync left it, and the next day's part beside the base."""
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.copytree(self.pristine, self.home)
        self.links(with_parts=True)


def served_runs(store: Store, env: dict[str, str], fork: bool, runs: int) -> list[dict[str, Any]]:
    """Start serve, run the sync deployment ``runs`` times from a reset store, stop serve."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    store.reset()
    serve_env = {**env, "CHARTROUTE_HOME": str(store.home)}
    serve_env["CHARTROUTE_SERVE_FORK"] = "1" if fork else "0"
    log = (store.work / f"serve-{'warm' if fork else 'cold'}.log").open("ab")
    command = [CHARTROUTE, "serve", "--source", str(store.source), "--config", store.config()]
    serving = subprocess.Popen(command, env=serve_env, stdout=log, stderr=subprocess.STDOUT)
    out: list[dict[str, Any]] = []
    try:
        with get_client(sync_client=True) as client:
            deadline = time.monotonic() + 120
            while not registered(client) and time.monotonic() < deadline:
                time.sleep(0.5)
        time.sleep(3)  # serve's own start-up (the fork server's imports) is over
        for number in range(runs):
            if number:
                store.reset()
            run = run_deployment(SYNC_DEPLOYMENT, timeout=600, poll_interval=0.2)
            with get_client(sync_client=True) as client:
                states = {s.type.value: s.timestamp for s in client.read_flow_run_states(run.id)}
            if "COMPLETED" not in states:
                raise SystemExit(f"a served run ended {sorted(states)}; see {log.name}")
            pending, running, done = states["PENDING"], states["RUNNING"], states["COMPLETED"]
            out.append(
                {
                    "wall_s": (done - pending).total_seconds(),
                    "running_s": (done - running).total_seconds(),
                    "start_s": (running - pending).total_seconds(),
                    "loadavg": loadavg(),
                }
            )
            time.sleep(2)  # the run's process has exited before the next reset
    finally:
        serving.terminate()
        serving.wait(120)
        log.close()
    return out


def registered(client: Any) -> bool:
    try:
        client.read_deployment_by_name("chartroute-backfill/backfill")  # the last one serve adds
        return True
    except Exception:
        return False


def cli_run(store: Store, env: dict[str, str]) -> dict[str, Any]:
    store.reset()
    home = {**env, "CHARTROUTE_HOME": str(store.home)}
    done = measure(store.sync_command(), home, store.work / "logs" / "cli-next-day")
    if done.exit_code != 0:
        raise SystemExit(f"the CLI next-day sync failed:\n{done.stderr[-3000:]}")
    return {"wall_s": done.wall_s, "cpu_s": done.cpu_s, "loadavg": loadavg()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=5)
    parser.add_argument("--days", type=int, default=112)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="served runs per serve, per mode")
    parser.add_argument("--work", type=Path, default=HERE / "out" / "served")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTROUTE_", "PREFECT_"))}
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env["PREFECT_HOME"] = str(work / "prefect")
    base, nxt = generate(work, args.providers, args.days, args.seed)
    server_env = {**env, "CHARTROUTE_HOME": str(work / "server-home")}
    env["PREFECT_API_URL"], _ = start_server(work, server_env)
    os.environ.update(PREFECT_API_URL=env["PREFECT_API_URL"], PREFECT_HOME=env["PREFECT_HOME"])
    samples: dict[str, list[dict[str, Any]]] = {"cold": [], "warm": [], "cli": []}
    before = loadavg()
    try:
        store = Store(work, base, nxt, env)
        for _ in range(args.rounds):
            samples["cold"] += served_runs(store, env, fork=False, runs=args.runs)
            samples["warm"] += served_runs(store, env, fork=True, runs=args.runs)
            samples["cli"].append(cli_run(store, env))
    finally:
        subprocess.run([CHARTROUTE, "server", "stop"], env=server_env, check=False)
    medians = {k: statistics.median(s["wall_s"] for s in v) for k, v in samples.items()}
    result = {
        "meta": {
            "command": " ".join(["served_bench.py", *(argv or sys.argv[1:])]),
            "cpus": os.cpu_count(),
            "loadavg_before": before,
            "loadavg_after": loadavg(),
            "records_next_day_part": sum(
                sum(1 for _ in p.open("rb")) for p in read_files(store.parts)
            ),
            "full_sync_s": store.full_sync_s,
        },
        "samples": samples,
        "medians": medians,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    full = store.full_sync_s
    print(f"full sync (CLI, one sample): {full:.1f} s")
    labels = {"cold": "served, spawned", "warm": "served, forked warm", "cli": "CLI"}
    for name, label in labels.items():
        walls = ", ".join(f"{s['wall_s']:.2f}" for s in samples[name])
        print(
            f"next day, {label}: median {medians[name]:.2f} s ({walls}); "
            f"/ full sync {medians[name] / full:.3f}"
        )
    print(f"warm / cold: {medians['warm'] / medians['cold']:.2f}")


if __name__ == "__main__":
    main()
