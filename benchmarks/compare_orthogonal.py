"""Orthogonal initialization: weightinit vs torch, a numpy QR recipe and scipy.

    python benchmarks/compare_orthogonal.py [--threads 2] [--repeat 2] [--sizes ...] [--big]

Every library runs on the same thread count (set before numpy/torch load their
BLAS). Prints the best wall time of --repeat runs, the ratio other/weightinit
(> 1: weightinit is faster), and weightinit's achieved GFLOP/s counting the
2 m n^2 - 2 n^3 / 3 flops of forming Q from n reflectors (m >= n).
--big adds a 16384 x 16384 float32 run in a fresh process and reports its peak
RSS above the output matrix itself (target: less than one extra copy, 1 GiB).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--sizes", nargs="*", default=["1024x1024", "2048x2048", "4096x4096", "8192x2048"])
    p.add_argument("--dtypes", nargs="*", default=["float32", "float64"])
    p.add_argument("--big", action="store_true", help="also the 16384^2 float32 memory run")
    p.add_argument("--skip", nargs="*", default=[], help="libraries to skip: torch numpy scipy")
    p.add_argument("--_big-child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


ARGS = parse()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "WEIGHTINIT_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

import weightinit as wi  # noqa: E402


def _status_bytes(field):
    """VmRSS / VmHWM of this process (ru_maxrss would include the parent's peak
    from before exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def big_child():
    n = 16384
    base = _status_bytes("VmRSS")
    out = np.empty((n, n), np.float32)
    t = time.perf_counter()
    wi.orthogonal_(out, seed=0, threads=ARGS.threads)
    t = time.perf_counter() - t
    peak = _status_bytes("VmHWM")
    extra = peak - base - out.nbytes
    print(f"16384x16384 float32: {t:.1f} s, {flops(n, n) / t / 1e9:.1f} GFLOP/s, peak RSS {peak / 2**30:.2f} GiB, "
          f"above baseline + output: {extra / 2**20:.0f} MiB ({extra / out.nbytes:.1%} of one copy)")


def flops(m, n):
    m, n = max(m, n), min(m, n)
    return 2 * m * n * n - 2 * n**3 / 3


def best(fn, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main():
    if ARGS._big_child:
        big_child()
        return
    libs = {}
    if "torch" not in ARGS.skip:
        try:
            import torch
            torch.set_num_threads(ARGS.threads)
            tdt = {"float32": torch.float32, "float64": torch.float64}
            libs["torch"] = lambda m, n, dt: torch.nn.init.orthogonal_(torch.empty(m, n, dtype=tdt[dt]))
        except ImportError:
            print("torch not installed: skipped")
    if "numpy" not in ARGS.skip:
        rng = np.random.default_rng(0)

        def numpy_qr(m, n, dt):
            a = rng.standard_normal((max(m, n), min(m, n)), dtype=dt)
            q, r = np.linalg.qr(a)
            q *= np.where(np.diag(r) < 0, -1, 1).astype(dt)
            return q if m >= n else q.T
        libs["numpy QR"] = numpy_qr
    if "scipy" not in ARGS.skip:
        from scipy.stats import ortho_group

        def scipy_og(m, n, dt):
            if m != n:
                return None  # square only
            return ortho_group.rvs(n, random_state=0).astype(dt, copy=False)
        libs["scipy ortho_group"] = scipy_og

    print(f"threads={ARGS.threads}  simd={wi.simd_path()}  repeat={ARGS.repeat} (best)  "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    head = f"{'shape':>11} {'dtype':>8} {'weightinit':>11} {'GFLOP/s':>8}"
    for name in libs:
        head += f" {name:>18} {'ratio':>6}"
    print(head)
    for size in ARGS.sizes:
        m, n = (int(x) for x in size.split("x"))
        for dt in ARGS.dtypes:
            out = np.empty((m, n), dt)
            wi.orthogonal_(out, seed=0)  # warm-up (page faults, thread pool)
            tw = best(lambda: wi.orthogonal_(out, seed=0), ARGS.repeat)
            line = f"{size:>11} {dt:>8} {tw:10.3f}s {flops(m, n) / tw / 1e9:8.1f}"
            for name, fn in libs.items():
                if fn(64, 64, dt) is None or fn(m, n, dt) is None:
                    line += f" {'n/a':>18} {'':>6}"
                    continue
                to = best(lambda: fn(m, n, dt), ARGS.repeat)
                line += f" {to:17.3f}s {to / tw:5.2f}x"
            print(line, flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if ARGS.big:
        cmd = [sys.executable, __file__, "--threads", str(ARGS.threads), "--_big-child"]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
