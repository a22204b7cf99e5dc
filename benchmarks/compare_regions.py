"""Block (region) fills against contiguous fills of the same size.

    python benchmarks/compare_regions.py [--rounds 7] [--threads N]

A shard of a (16384, 16384) float32 tensor: column blocks whose contiguous runs are 1024
and 4096 elements long, a row block (one run) and a 3-D block, each against
a contiguous fill of the same number of elements, in paired rounds (median and range of
the time ratio block / contiguous). Target: <= 1.2 for runs of >= 1024 elements."""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import weightinit as wi


def best(fn, reps=3):
    fn()
    out = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = ap.parse_args()
    G = (16384, 16384)
    cases = {
        "column block, runs of 1024": (G, (0, 4096), (16384, 1024)),
        "column block, runs of 4096": (G, (0, 8192), (4096, 4096)),
        "row block (one run)": (G, (4096, 0), (1024, 16384)),
        "3-D block, runs of 1024": ((64, 512, 4096), (8, 0, 1024), (32, 512, 1024)),
    }
    print(f"weightinit {wi.__version__}, SIMD path {wi.simd_path()}, {args.threads} threads, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'case':<30}{'dist':<14}{'Gelem/s':>9}{'ratio':>8}{'range':>14}")
    for name, (g, start, shape) in cases.items():
        blk = np.zeros(shape, np.float32)
        flat = np.zeros(blk.size, np.float32)
        for dist, fn in (("uniform", wi.uniform_), ("normal", wi.normal_), ("trunc_normal", wi.trunc_normal_)):
            ratios, rates = [], []
            for r in range(args.rounds):
                pair = [lambda: fn(blk, seed=r, global_shape=g, offset=start, threads=args.threads),
                        lambda: fn(flat, seed=r, offset=12345, threads=args.threads)]
                order = pair if r % 2 == 0 else pair[::-1]
                t = [best(f) for f in order]
                tb, tf = (t[0], t[1]) if r % 2 == 0 else (t[1], t[0])
                ratios.append(tb / tf)
                rates.append(blk.size / tb / 1e9)
            print(f"{name:<30}{dist:<14}{statistics.median(rates):>9.3f}{statistics.median(ratios):>8.3f}"
                  f"{f'{min(ratios):.3f}-{max(ratios):.3f}':>14}")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
