"""Issue 13's fill speed targets, per SIMD path, in one run:

    flock /tmp/bench.lock python benchmarks/speed_targets.py [--log2n 26] [--threads N]

Each SIMD path available here is timed in its own subprocess (WEIGHTINIT_SIMD set).
In cache, one thread, float32 unless named: normal_ / uniform_ (target >= 0.6),
trunc_normal_ +-2 std / uniform_ (>= 0.4), float64 normal_ / float32 normal_ (>= 0.35),
float64 trunc_normal_ / float32 trunc_normal_ (>= 0.35). In memory (2^log2n float32,
all threads): uniform_ / ndarray.fill (>= 0.9), normal_ / torch normal_ (>= 5),
trunc_normal_ / torch.nn.init.trunc_normal_ (>= 40), and the bound the generator puts on
uniform_ / ndarray.fill (every thread at uniform_'s in-cache rate, less the per-call
cost). The targets are those of the vector paths (avx2, avx512; the in-memory ones are
set for AVX2): the portable path's ratios are printed without a verdict. Rates are the
best of repeats (elements/s); torch's truncated normal is timed on a 2^22 slice (its
rate does not depend on size)."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

import compare  # benchmarks/compare.py: this script's folder is on sys.path

IN_CACHE = 1 << 15          # 128 KiB of float32, 256 KiB of float64: in L2
TARGETS = [                 # (key, target, what)
    ("normal/uniform", 0.6, "in cache, 1 thread: normal_ / uniform_"),
    ("trunc/uniform", 0.4, "in cache, 1 thread: trunc_normal_ / uniform_"),
    ("f64 normal/f32 normal", 0.35, "in cache, 1 thread: float64 / float32 normal_"),
    ("f64 trunc/f32 trunc", 0.35, "in cache, 1 thread: float64 / float32 trunc_normal_"),
    ("uniform/fill", 0.9, "in memory, all threads: uniform_ / ndarray.fill"),
    ("uniform/fill bound", None, "  its bound: threads x in-cache uniform_ / ndarray.fill"),
    ("normal/torch", 5.0, "in memory, all threads: normal_ / torch normal_"),
    ("trunc/torch", 40.0, "in memory, all threads: trunc_normal_ / torch trunc_normal_"),
]


def rate(fn, n, min_time=0.3, max_reps=50):
    """Best elements/s after one warm-up call (at least three timed calls)."""
    return compare.rate(fn, n, min_time, max_reps, min_reps=3)


def fresh(fill, a):
    """fill(a, offset) called with a new offset each time: the same buffer (in cache),
    new values, so that the branch predictor cannot learn one tile's pattern (it did:
    repeating one 2^15-element trunc_normal_ fill read 25% faster)."""
    calls = iter(range(1 << 62))
    return lambda: fill(a, next(calls) * a.size)


def child(log2n: int, threads: int) -> dict:
    import weightinit as wi
    r = {}
    for dt in (np.float32, np.float64):
        a = np.empty(IN_CACHE, dt)
        k = np.dtype(dt).name
        r[f"{k} uniform"] = rate(fresh(lambda b, o: wi.uniform_(b, seed=1, offset=o, threads=1), a), a.size)
        r[f"{k} normal"] = rate(fresh(lambda b, o: wi.normal_(b, seed=1, offset=o, threads=1), a), a.size)
        r[f"{k} trunc"] = rate(fresh(lambda b, o: wi.trunc_normal_(b, 0.0, 1.0, -2.0, 2.0, seed=1, offset=o,
                                                                 threads=1), a), a.size)
    # one call's fixed cost (Python and one tile), to take out of the in-cache uniform_
    # rate for the generator's bound below
    tiny = np.empty(16, np.float32)
    r["call s"] = 1.0 / rate(fresh(lambda b, o: wi.uniform_(b, seed=1, offset=o, threads=1), tiny), 1)
    n = 1 << log2n
    big = np.empty(n, np.float32)
    big.fill(0.0)   # first touch outside the timing, as for every peer
    r["fill"] = rate(lambda: big.fill(1.0), n, max_reps=5)
    r["uniform"] = rate(lambda: wi.uniform_(big, seed=1, threads=threads), n, max_reps=5)
    r["normal"] = rate(lambda: wi.normal_(big, seed=1, threads=threads), n, max_reps=5)
    r["trunc"] = rate(lambda: wi.trunc_normal_(big, 0.0, 1.0, -2.0, 2.0, seed=1, threads=threads), n, max_reps=5)
    try:
        import torch
        torch.set_num_threads(threads)
        t = torch.from_numpy(big)
        r["torch normal"] = rate(lambda: t.normal_(), n, max_reps=5)
        ts = torch.from_numpy(big[:1 << 22])
        r["torch trunc"] = rate(lambda: torch.nn.init.trunc_normal_(ts, 0.0, 1.0, -2.0, 2.0), ts.numel(), max_reps=3)
    except ImportError:
        pass
    return r


def ratios(r: dict, threads: int) -> dict:
    """The targets' ratios, and the bound of uniform/fill that the generator sets:
    every thread at uniform_'s in-cache rate without the per-call cost (no memory
    traffic at all)."""
    kernel = IN_CACHE / (IN_CACHE / r["float32 uniform"] - r["call s"])   # without the call's cost
    out = {
        "uniform/fill bound": threads * kernel / r["fill"],
        "normal/uniform": r["float32 normal"] / r["float32 uniform"],
        "trunc/uniform": r["float32 trunc"] / r["float32 uniform"],
        "f64 normal/f32 normal": r["float64 normal"] / r["float32 normal"],
        "f64 trunc/f32 trunc": r["float64 trunc"] / r["float32 trunc"],
        "uniform/fill": r["uniform"] / r["fill"],
    }
    if "torch normal" in r:
        out["normal/torch"] = r["normal"] / r["torch normal"]
        out["trunc/torch"] = r["trunc"] / r["torch trunc"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log2n", type=int, default=26, help="in-memory buffer: 2**N float32 (default 26)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--json", metavar="PATH", help="also write the rates and ratios as JSON")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.log2n, args.threads)))
        return 0
    import weightinit as wi
    results = {}
    for path in wi.available_simd_paths():
        env = {**os.environ, "WEIGHTINIT_SIMD": path}
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--log2n", str(args.log2n),
               "--threads", str(args.threads)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        results[path] = json.loads(out.strip().splitlines()[-1])
    paths = list(results)
    print(f"weightinit {wi.__version__}, {args.threads} threads, in memory 2^{args.log2n} float32, "
          f"in cache 2^{IN_CACHE.bit_length() - 1} elements")
    print("rates, Gelem/s: " + "; ".join(
        f"{p}: " + ", ".join(f"{k} {v / 1e9:.3f}" for k, v in results[p].items() if k != "call s")
        + f", call {results[p]['call s'] * 1e6:.1f} us" for p in paths))
    print()
    head = f"| {'ratio':<58} | {'target':>6} | " + " | ".join(f"{p:>14}" for p in paths) + " |"
    print(head)
    print("|" + "-" * 60 + "|" + "-" * 8 + "|" + "|".join("-" * 16 for _ in paths) + "|")
    rs = {p: ratios(results[p], args.threads) for p in paths}
    for key, target, what in TARGETS:
        cells = []
        for p in paths:
            v = rs[p].get(key)
            if v is None:
                cells.append(f"{'n/a':>14}")
            else:
                verdict = "" if target is None or p == "scalar" else (" PASS" if v >= target else " MISS")
                cells.append(f"{v:>9.3f}{verdict:>5}")
        t = "-" if target is None else f"{target:g}"
        print(f"| {what:<58} | {t:>6} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rates": results, "ratios": rs}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
