"""The ceiling for ``sync_bench.py``: orjson decodes every line of the given NDJSON files.

Run as its own bare process (nothing but orjson imported), so its wall time, CPU and peak
memory are what merely reading the export costs. Prints one JSON line: records and seconds.

    .venv/bin/python bench/raw_read.py FILE.ndjson [FILE.ndjson ...]
"""

from __future__ import annotations

import sys
import time

import orjson


def read_all(paths: list[str]) -> int:
    """Decode every non-blank line; the count of records decoded."""
    records = 0
    loads = orjson.loads
    for path in paths:
        with open(path, "rb") as lines:
            for line in lines:
                if line.strip():
                    loads(line)
                    records += 1
    return records


def main() -> None:
    began = time.perf_counter()
    records = read_all(sys.argv[1:])
    seconds = time.perf_counter() - began
    sys.stdout.write(orjson.dumps({"records": records, "seconds": seconds}).decode() + "\n")


if __name__ == "__main__":
    main()
