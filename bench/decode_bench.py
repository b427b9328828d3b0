"""Reading a record into facts against merely decoding it: ``decode_record`` vs ``orjson.loads``.

Reads every NDJSON line of a Bulk Data folder (``chartroute generate``) into memory, then times,
interleaved in each round, the bare decode (``orjson.loads`` of every line: the ceiling) and
``decode_record`` of every line (decode, structural checks and extraction into typed facts, as the
sync does). Both drop what they made at once: kept, 51k decoded dicts cost the garbage
collector more than the decode itself, which measures the heap, not the decoder (a sync keeps
one bounded batch). Both are CPU seconds (``time.process_time``), so other users of a shared machine
slow the figures less than wall time would.

With ``--baseline PATH`` (another checkout of chartroute, e.g. a ``git worktree`` of main) each
round runs one child process on this tree and one on the baseline, in alternating order, so the
two are measured under the same load; records/s are reported as medians over the rounds with the
ratio decode/bare for each tree and baseline/this for ``decode_record``. Both trees must produce
the same results: the children count Decoded and Rejected records and the reasons, and the
script refuses to report figures if they differ.

Usage: python bench/decode_bench.py FOLDER [--baseline PATH] [--rounds 7] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def child(folder: str, repeat: int) -> dict[str, Any]:
    """Time bare decode and decode_record in this process (``sys.path`` picks the tree)."""
    import orjson

    from chartroute.sources.decode import Decoded, decode_record
    from chartroute.sources.ndjson_dir import NdjsonDirSource

    source = NdjsonDirSource(folder)
    records = [r for p in source.partitions() for r in source.read(p)]
    loads = orjson.loads
    bare: list[float] = []
    full: list[float] = []
    outcome = hashlib.sha256()
    for rep in range(repeat):
        start = time.process_time()
        for record in records:
            loads(record.raw)  # type: ignore[arg-type]
        bare.append(time.process_time() - start)
        start = time.process_time()
        for record in records:
            decode_record(record)
        full.append(time.process_time() - start)
        if rep == 0:  # untimed: what came out, to hold the trees to the same results
            for result in map(decode_record, records):
                if isinstance(result, Decoded):
                    outcome.update(repr((result.resource_id, result.facts)).encode())
                else:
                    outcome.update(repr((result.location, result.reasons)).encode())
    return {
        "tree": str(Path(sys.modules["chartroute"].__file__ or "").parents[1]),
        "records": len(records),
        "bare_s": statistics.median(bare),
        "decode_s": statistics.median(full),
        "outcome": outcome.hexdigest(),
    }


def run_child(tree: Path, folder: str, repeat: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), folder, "--child", "--repeat", str(repeat)],
        env=env,
        cwd=str(tree),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if Path(result["tree"]).resolve() != tree.resolve():
        raise SystemExit(f"child imported chartroute from {result['tree']}, not {tree}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--baseline", type=Path, help="another chartroute checkout to compare")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="timings per child (median)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.folder, args.repeat)))
        return
    trees = {"this": ROOT}
    if args.baseline is not None:
        trees["baseline"] = args.baseline
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    load_before = os.getloadavg()
    for i in range(args.rounds):
        order = list(trees) if i % 2 == 0 else list(reversed(trees))
        for name in order:
            runs[name].append(run_child(trees[name], args.folder, args.repeat))
    load_after = os.getloadavg()
    outcomes = {r["outcome"] for rs in runs.values() for r in rs}
    if len(outcomes) != 1:
        raise SystemExit("the trees decoded the records differently: no figures")
    records = runs["this"][0]["records"]
    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {python}")
    print(f"load average before {load_before}, after {load_after}")
    print(f"{records:,} records, {args.rounds} rounds x {args.repeat} timings (CPU seconds)")
    medians: dict[str, float] = {}
    for name, rs in runs.items():
        bare = statistics.median(r["bare_s"] for r in rs)
        full = statistics.median(r["decode_s"] for r in rs)
        ratios = statistics.median(r["decode_s"] / r["bare_s"] for r in rs)
        medians[name] = full
        print(
            f"{name:9} {trees[name]}: orjson.loads {records / bare:,.0f} rec/s, "
            f"decode_record {records / full:,.0f} rec/s, decode/bare {ratios:.2f}x"
        )
    if "baseline" in runs:
        pairs = [
            b["decode_s"] / t["decode_s"]
            for b, t in zip(runs["baseline"], runs["this"], strict=True)
        ]
        print(f"decode_record baseline/this, median of rounds: {statistics.median(pairs):.2f}x")


if __name__ == "__main__":
    main()
