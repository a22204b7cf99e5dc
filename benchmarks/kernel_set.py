"""The release kernel set: one timing per kernel, for recording a release's results
and for the regression gate (benchmarks/release.py), which runs it against two builds.

    python benchmarks/kernel_set.py [--quick] [--json PATH]
    python benchmarks/kernel_set.py --serve [--quick]     # the gate's worker (see serve)

Uses only the public API that every release since 0.1.0 has (uniform_, normal_,
trunc_normal_, orthogonal_, create_checkpoint), so one script times any of them.
Each kernel: one warm-up run, then --reps timed runs (seconds; median and min kept:
the gate compares minima, the least disturbed by other load).
The SIMD path and thread count come from the environment (WEIGHTINIT_SIMD,
WEIGHTINIT_NUM_THREADS), as for any user.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import ml_dtypes
import numpy as np

import weightinit as wi

BF16 = np.dtype(ml_dtypes.bfloat16)


def kernels(quick: bool, tmp: str) -> dict:
    """name -> (function, elements or bytes processed, unit); the checkpoint kernel
    writes under `tmp`."""
    n = 1 << (22 if quick else 25)           # in memory: 128 MiB of float32
    small = 1 << 14                          # in cache, one thread
    bufs = {dt: np.zeros(n, dt) for dt in (np.float32, BF16, np.float64)}
    cache = np.zeros(small, np.float32)
    ortho = np.empty((256 if quick else 1024,) * 2, np.float32)
    out = {}
    for dname, dt in (("f32", np.float32), ("bf16", BF16), ("f64", np.float64)):
        b = bufs[dt]
        out[f"uniform_{dname}"] = (lambda b=b: wi.uniform_(b, -1.0, 1.0, seed=1), n, "elem")
        out[f"normal_{dname}"] = (lambda b=b: wi.normal_(b, 0.0, 1.0, seed=1), n, "elem")
        out[f"trunc_normal_{dname}"] = (lambda b=b: wi.trunc_normal_(b, 0.0, 1.0, -2.0, 2.0, seed=1), n, "elem")
    reps = 1024                              # about 20-60 ms of work per timing
    out["normal_f32_cache_1thread"] = (
        lambda: [wi.normal_(cache, seed=i, threads=1) for i in range(reps)], small * reps, "elem")
    out["trunc_normal_f32_cache_1thread"] = (
        lambda: [wi.trunc_normal_(cache, 0.0, 1.0, -2.0, 2.0, seed=i, threads=1) for i in range(reps)],
        small * reps, "elem")
    out["uniform_f32_cache_1thread"] = (
        lambda: [wi.uniform_(cache, -1.0, 1.0, seed=i, threads=1) for i in range(reps)], small * reps, "elem")
    out[f"orthogonal_f32_{ortho.shape[0]}"] = (lambda: wi.orthogonal_(ortho, seed=1), ortho.size, "elem")
    layers = 1 if quick else 4
    spec = {"seed": 0, "dtype": "bfloat16", "tensors": [
        {"name": f"layers.{i}.{k}", "shape": [2048, 5632 if "mlp" in k else 2048], "scheme": "normal",
         "params": {"std": 0.02}} for i in range(layers) for k in ("attn.q", "attn.o", "mlp.up", "mlp.down")]}
    nbytes = sum(2 * t["shape"][0] * t["shape"][1] for t in spec["tensors"])

    def checkpoint():
        target = os.path.join(tmp, "ckpt")
        shutil.rmtree(target, ignore_errors=True)
        wi.create_checkpoint(spec, target, progress=False)
        shutil.rmtree(target)
    out["checkpoint_bf16"] = (checkpoint, nbytes, "byte")
    return out


@contextlib.contextmanager
def kernel_set(quick: bool):
    """kernels() with a scratch directory for the checkpoint kernel, removed after."""
    tmp = tempfile.mkdtemp(prefix="wi-kernels-", dir=os.environ.get("WEIGHTINIT_BENCH_DIR"))
    try:
        yield kernels(quick, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def timings(fn, reps: int) -> list:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def identity() -> dict:
    return {"weightinit": wi.__version__, "module": wi.__file__, "simd_path": wi.simd_path()}


def serve(quick: bool) -> int:
    """The gate's worker (release.py gate): says who it is and which kernels it has,
    then for each line "KERNEL REPS" on stdin times that kernel REPS times (after one
    warm-up run the first time) and answers {"min_s": ...}. Two workers, one per
    build, answered in turn, put the two builds' timings of a kernel seconds apart:
    under the same load."""
    with kernel_set(quick) as ks:
        print(json.dumps({**identity(), "kernels": list(ks)}), flush=True)
        warm = set()
        for line in sys.stdin:
            name, reps = line.split()
            fn = ks[name][0]
            if name not in warm:
                fn()
                warm.add(name)
            print(json.dumps({"min_s": min(timings(fn, int(reps)))}), flush=True)
    return 0


def time_all(quick: bool, reps: int) -> dict:
    results = {}
    with kernel_set(quick) as ks:
        for name, (fn, amount, unit) in ks.items():
            fn()
            times = timings(fn, reps)
            results[name] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
                             "reps": reps, "amount": amount, "unit": unit,
                             "rate": amount / statistics.median(times)}
    return results


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON ('-': stdout)")
    ap.add_argument("--serve", action="store_true", help="time kernels on request (the release gate's worker)")
    args = ap.parse_args(argv)
    if args.serve:
        return serve(args.quick)
    res = {**identity(), "kernels": time_all(args.quick, args.reps)}
    if args.json == "-":
        json.dump(res, sys.stdout)
        return 0
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)
    print(f"weightinit {res['weightinit']}, SIMD path {res['simd_path']}")
    for name, r in res["kernels"].items():
        rate = f"{r['rate'] / 1e9:.3f} G{r['unit']}/s"
        print(f"{name:<32}{r['median_s'] * 1e3:>10.2f} ms  {rate}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
