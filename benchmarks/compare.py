"""Throughput of weightinit's kernels against the memory-write ceiling and the
usual alternatives, in one run:

    python benchmarks/compare.py [--log2n 28] [--threads N] [--json PATH]

Prints Gelem/s, the fraction of the `ndarray.fill` rate on the same buffer (the
memory-write ceiling) and weightinit's speed-up over each peer. Peers: numpy's
Generator (single-threaded), numpy's multithreaded SeedSequence recipe, and torch
(normal_, uniform_, nn.init.trunc_normal_) when installed, all on the same threads.
Slow peers are timed on a smaller slice of the buffer (their rate does not depend
on size); the table says which."""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import time

import ml_dtypes
import numpy as np

import weightinit as wi


def rate(fn, n, min_time=1.0, max_reps=5, min_reps=2):
    """Best elements/s over repeats after one untimed warm-up run (at least min_reps
    timed runs, until min_time)."""
    fn()
    best, spent, reps = float("inf"), 0.0, 0
    while reps < min_reps or (spent < min_time and reps < max_reps):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, spent, reps = min(best, dt), spent + dt, reps + 1
    return n / best


def numpy_mt(threads, kind, dtype):
    """numpy's documented multithreaded recipe: one Generator per thread from
    SeedSequence.spawn, each filling its slice with out=."""
    gens = [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(0).spawn(threads)]
    pool = concurrent.futures.ThreadPoolExecutor(threads)

    def run(out):
        step = -(-out.size // threads)
        def part(k):
            sl = out[k * step:(k + 1) * step]
            if kind == "normal":
                gens[k].standard_normal(out=sl, dtype=dtype)
            else:
                gens[k].random(out=sl, dtype=dtype)
        list(pool.map(part, range(threads)))
    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log2n", type=int, default=28, help="buffer size 2**N elements (default 28)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--json", metavar="PATH", help="also write the rows as JSON (benchmarks/release.py reads it)")
    args = ap.parse_args(argv)
    n, t = 1 << args.log2n, args.threads
    small = min(n, 1 << 22)
    print(f"weightinit {wi.__version__}, SIMD path {wi.simd_path()}, {t} threads, {n:,} elements")
    try:
        import torch
        torch.set_num_threads(t)
    except ImportError:
        torch = None
        print("(torch not installed: torch rows skipped)")

    rows, ceilings, weightinit_rates = [], {}, {}
    for dname, dtype in [("float32", np.float32), ("bfloat16", ml_dtypes.bfloat16)]:
        out = np.empty(n, dtype)
        out.fill(0)          # fault the pages in: measure writing, not the kernel's page faults
        ceiling = rate(lambda: out.fill(1.0), n)
        rows.append((dname, "ndarray.fill (ceiling)", ceiling, None, n))
        ours = {
            "uniform": rate(lambda: wi.uniform_(out, seed=1, threads=t), n),
            "normal": rate(lambda: wi.normal_(out, seed=1, threads=t), n),
            "trunc_normal": rate(lambda: wi.trunc_normal_(out, seed=1, threads=t), n),
        }
        for k, v in ours.items():
            rows.append((dname, f"weightinit {k}_", v, None, n))
        if dtype == np.float32:
            g = np.random.default_rng(0)
            sl = out[:small]
            rows.append((dname, "numpy standard_normal(out=)", rate(lambda: g.standard_normal(out=sl, dtype=np.float32), small), "normal", small))
            rows.append((dname, "numpy random(out=)", rate(lambda: g.random(out=sl, dtype=np.float32), small), "uniform", small))
            mt_n, mt_u = numpy_mt(t, "normal", np.float32), numpy_mt(t, "uniform", np.float32)
            rows.append((dname, f"numpy SeedSequence x{t} normal", rate(lambda: mt_n(out), n), "normal", n))
            rows.append((dname, f"numpy SeedSequence x{t} uniform", rate(lambda: mt_u(out), n), "uniform", n))
        if torch is not None:
            tt = torch.empty(n, dtype=torch.float32 if dtype == np.float32 else torch.bfloat16)
            tt.fill_(0)
            ts = tt[:small]
            rows.append((dname, "torch normal_", rate(lambda: tt.normal_(), n), "normal", n))
            rows.append((dname, "torch uniform_", rate(lambda: tt.uniform_(), n), "uniform", n))
            rows.append((dname, "torch nn.init.trunc_normal_", rate(lambda: torch.nn.init.trunc_normal_(ts), small), "trunc_normal", small))
        ceilings[dname] = ceiling
        weightinit_rates[dname] = ours
        print(f"\n{dname}")
        print(f"{'kernel':<34}{'Gelem/s':>9}{'x ceiling':>11}{'weightinit x':>14}  measured on")
        for dn, name, r, peer_of, size in rows:
            if dn != dname:
                continue
            speedup = f"{ours[peer_of] / r:>13.1f}x" if peer_of else f"{'':>14}"
            print(f"{name:<34}{r / 1e9:>9.3f}{r / ceiling:>10.2f}x{speedup}  {size:,}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{"dtype": dn, "kernel": name, "gelem_per_s": r / 1e9, "x_ceiling": r / ceilings[dn],
                        "weightinit_speedup": weightinit_rates[dn][peer_of] / r if peer_of else None,
                        "elements": size} for dn, name, r, peer_of, size in rows], fh, indent=1)


if __name__ == "__main__":
    main()
