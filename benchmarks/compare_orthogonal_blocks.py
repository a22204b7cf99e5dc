"""Blocks of an orthogonal matrix against the whole matrix: time and peak memory.

    flock /tmp/bench.lock python benchmarks/compare_orthogonal_blocks.py [--n 4096] [--rounds 3]

Each case runs in a fresh subprocess (so its resident-set high-water mark,
``ru_maxrss``, is its own: C allocations included, which tracemalloc does not see); the
time is the median of --rounds such processes, the peak memory is their largest RSS
minus that of a process that only imports weightinit and numpy. Cases of an n x n
float32 matrix: the whole matrix, column blocks (first and last 1/8, last 1/4, last 1/2
of the columns: a column block needs the reflector panels up to its last column, so the
last columns cost the most) and a row block of 1/8 of the rows (which needs every
column of Q, formed slab by slab)."""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numpy as np
import weightinit as wi
n, r0, c0, h, w, threads = map(int, sys.argv[1:7])
if h == 0:           # baseline: imports only
    print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
    sys.exit()
out = np.empty((h, w), np.float32)
t0 = time.perf_counter()
if (h, w) == (n, n):
    wi.orthogonal_(out, seed=1, stream="w", threads=threads)
else:
    wi.orthogonal_(out, seed=1, stream="w", threads=threads, global_shape=(n, n), offset=(r0, c0))
t = time.perf_counter() - t0
print(json.dumps({"time": t, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def child(n, r0, c0, h, w, threads):
    out = subprocess.run([sys.executable, "-c", CHILD, *map(str, (n, r0, c0, h, w, threads))],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = ap.parse_args()
    n, t = args.n, args.threads
    e = n // 8
    cases = {
        "whole matrix": (0, 0, n, n),
        "columns [0, n/8)": (0, 0, n, e),
        "columns [7n/8, n)": (0, n - e, n, e),
        "columns [3n/4, n)": (0, n - 2 * e, n, 2 * e),
        "columns [n/2, n)": (0, n // 2, n, n - n // 2),
        "rows [0, n/8)": (0, 0, e, n),
    }
    base = max(child(n, 0, 0, 0, 0, t)["rss"] for _ in range(2))
    rows = {}
    for r in range(args.rounds):          # rounds interleave the cases: drift hits them alike
        for name, (r0, c0, h, w) in cases.items():
            res = child(n, r0, c0, h, w, t)
            rows.setdefault(name, []).append(res)
    whole_t = statistics.median(x["time"] for x in rows["whole matrix"])
    whole_m = max(x["rss"] for x in rows["whole matrix"]) - base
    print(f"orthogonal_ blocks of a {n} x {n} float32 matrix, {t} threads, {args.rounds} rounds "
          f"(time: median [min-max] of fresh processes; memory: peak RSS above a bare import, "
          f"{base / 1024:.0f} MiB)")
    print(f"{'case':22} {'block MiB':>9} {'time s':>22} {'/ whole':>8} {'peak MiB':>9} {'/ whole':>8}")
    for name, (r0, c0, h, w) in cases.items():
        ts = [x["time"] for x in rows[name]]
        mem = max(x["rss"] for x in rows[name]) - base
        med = statistics.median(ts)
        print(f"{name:22} {h * w * 4 / 2**20:9.0f} {med:8.3f} [{min(ts):.3f}-{max(ts):.3f}] "
              f"{med / whole_t:8.3f} {mem / 1024:9.0f} {mem / whole_m:8.3f}")


if __name__ == "__main__":
    main()
