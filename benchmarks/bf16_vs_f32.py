"""bfloat16 (or another narrow dtype) against float32 element rates, measured in pairs:

    python benchmarks/bf16_vs_f32.py [--log2n 28] [--threads N] [--rounds 15] [--dtype bfloat16]

Each round times one float32 fill and one bfloat16 fill of 2^N elements back to
back (best of 3 each) and records bfloat16's rate over float32's; the table
gives the median ratio and its range over the rounds, so that run-to-run noise
(a few percent on a shared machine) is visible next to the ratio itself. A
second table does the same in cache on one thread (2^17 elements), where only
the arithmetic differs."""
from __future__ import annotations

import argparse
import os
import statistics
import time

import ml_dtypes
import numpy as np

import weightinit as wi

FILLS = {
    "uniform": lambda out, t: wi.uniform_(out, seed=1, threads=t),
    "normal": lambda out, t: wi.normal_(out, seed=1, threads=t),
    "trunc_normal": lambda out, t: wi.trunc_normal_(out, seed=1, threads=t),
}


def best_time(fn, reps):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


NARROW = {"bfloat16": ml_dtypes.bfloat16, "float16": np.float16,
          "float8_e4m3fn": ml_dtypes.float8_e4m3fn, "float8_e5m2": ml_dtypes.float8_e5m2}


def paired(n, threads, rounds, reps, dtype="bfloat16"):
    f32, bf16 = np.zeros(n, np.float32), np.zeros(n, NARROW[dtype])
    rows = []
    for name, fill in FILLS.items():
        fill(f32, threads), fill(bf16, threads)          # warm up
        ratios, rates = [], []
        for _ in range(rounds):
            tf = best_time(lambda: fill(f32, threads), reps)
            tb = best_time(lambda: fill(bf16, threads), reps)
            ratios.append(tf / tb)
            rates.append((n / tf, n / tb))
        rows.append((name, max(r[0] for r in rates), max(r[1] for r in rates), ratios))
    return rows


def show(title, rows, dtype="bfloat16"):
    short = {"bfloat16": "bf16", "float16": "f16", "float8_e4m3fn": "e4m3", "float8_e5m2": "e5m2"}[dtype]
    print(f"\n{title}")
    print(f"{'kernel':<14}{'f32 Gelem/s':>12}{short + ' Gelem/s':>13}{short + '/f32 median':>17}{'range':>16}")
    for name, rf, rb, ratios in rows:
        print(f"{name:<14}{rf / 1e9:>12.3f}{rb / 1e9:>13.3f}{statistics.median(ratios):>17.3f}"
              f"{min(ratios):>8.3f}-{max(ratios):.3f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log2n", type=int, default=28, help="buffer size 2**N elements (default 28)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--dtype", default="bfloat16", choices=list(NARROW), help="the dtype set against float32")
    args = ap.parse_args(argv)
    print(f"weightinit {wi.__version__}, SIMD path {wi.simd_path()}, rates are the best round's")
    show(f"2^{args.log2n} elements, {args.threads} threads, {args.rounds} rounds",
         paired(1 << args.log2n, args.threads, args.rounds, 3, args.dtype), args.dtype)
    show(f"in cache: 2^17 elements, 1 thread, {args.rounds} rounds",
         paired(1 << 17, 1, args.rounds, 200, args.dtype), args.dtype)


if __name__ == "__main__":
    main()
