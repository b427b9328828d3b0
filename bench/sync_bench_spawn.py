"""Run one command and write what it cost: ``python -S sync_bench_spawn.py RESULT CMD ...``.

A launcher of its own because Linux carries the memory high-water mark of a process across
``exec``: a child forked from the bench (which has imported chartroute and hashed the export)
would report the bench's resident size as its own peak. Forked from this small process
instead, the child's ``ru_maxrss`` is its own. Wall time runs from spawn to exit; CPU seconds
are the child's user + system time, both from ``os.wait4``.
"""

import json
import os
import subprocess
import sys
import time


def main() -> None:
    result, command = sys.argv[1], sys.argv[2:]
    began = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    figures = {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "exit_code": child.returncode,
    }
    with open(result, "w") as out:
        json.dump(figures, out)


if __name__ == "__main__":
    main()
