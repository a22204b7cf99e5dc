"""Orthogonal initialization: weightinit (per SIMD path) vs torch, a numpy QR recipe and scipy.

    python benchmarks/compare_orthogonal.py [--threads 1 2] [--paths avx2 scalar] [--repeat 2]
        [--sizes 4096x4096 2048x2048 8192x1024] [--dtypes float32 float64] [--skip numpy scipy] [--big]

One line per (shape, dtype, thread count): the best wall time of --repeat runs of
torch.nn.init.orthogonal_ and of weightinit.orthogonal_ on every SIMD path asked
for, side by side, each path with its GFLOP/s, its share of the machine's FMA
peak and its speed-up over torch (torch time / weightinit time, > 1: weightinit
faster). GFLOP/s count the 2 m n^2 - 2 n^3 / 3 flops of forming Q from n
reflectors (m >= n), for every library alike.

The peak is measured at the start by fma_peak.py (independent chains of vector
FMAs on 1..N threads; --peak GFLOPS skips that and assumes the given float32
all-thread figure): float32 rows are compared with the float32 peak of that
many threads, float64 rows with half of it (half the lanes per FMA).

Every library runs on the same thread count: torch through set_num_threads,
numpy's BLAS through threadpoolctl (the numpy column is left out without it).
The SIMD path is switched with WEIGHTINIT_SIMD between calls. The scalar path
computes every product with a libm fma() call on x86 (the path for CPUs without
FMA); it runs at about 1 GFLOP/s, so --scalar-max-gflop (default 20) leaves it
out of larger shapes (n/a) unless raised. --big adds a 16384 x 16384 float32
run (best path) in a fresh process and reports its peak RSS above the output
matrix itself (target: less than one extra copy, 1 GiB).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def parse():
    ncpu = len(os.sched_getaffinity(0))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, nargs="*", default=sorted({1, ncpu}))
    p.add_argument("--paths", nargs="*", default=None, help="SIMD paths (default: every available one)")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--sizes", nargs="*", default=["4096x4096", "2048x2048", "8192x1024"])
    p.add_argument("--dtypes", nargs="*", default=["float32", "float64"])
    p.add_argument("--peak", type=float, default=None, help="assumed float32 peak GFLOP/s with all threads")
    p.add_argument("--scalar-max-gflop", type=float, default=20.0)
    p.add_argument("--big", action="store_true", help="also the 16384^2 float32 memory run")
    p.add_argument("--skip", nargs="*", default=[], help="libraries to skip: torch numpy scipy")
    p.add_argument("--_big-child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


ARGS = parse()
# BLAS and OpenMP pools sized for the largest thread count; each row then sets its own
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(max(ARGS.threads))

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
    threads = max(ARGS.threads)
    base = _status_bytes("VmRSS")
    out = np.empty((n, n), np.float32)
    t = time.perf_counter()
    wi.orthogonal_(out, seed=0, threads=threads)
    t = time.perf_counter() - t
    peak = _status_bytes("VmHWM")
    extra = peak - base - out.nbytes
    print(f"16384x16384 float32, {threads} threads, {wi.simd_path()}: {t:.1f} s, {flops(n, n) / t / 1e9:.1f} GFLOP/s, "
          f"peak RSS {peak / 2**30:.2f} GiB, above baseline + output: {extra / 2**20:.0f} MiB "
          f"({extra / out.nbytes:.1%} of one copy)")


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


def peaks_per_thread_count():
    """{threads: float32 GFLOP/s peak}, measured (or scaled from --peak)."""
    if ARGS.peak:
        most = max(ARGS.threads)
        print(f"peak: assumed {ARGS.peak:.1f} GFLOP/s float32 on {most} threads (--peak), linear in threads")
        return {t: ARGS.peak * t / most for t in ARGS.threads}
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fma_peak
    peaks, lanes = fma_peak.measure_peaks(ARGS.threads, seconds=0.3, repeat=3)
    print("peak: measured by fma_peak.py (12 independent chains of "
          f"{lanes}-lane float32 FMAs, best of 3): "
          + ", ".join(f"{t} thread{'s' * (t > 1)} {p:.1f} GFLOP/s" for t, p in peaks.items())
          + "; float64 rows use half")
    return peaks


def other_libs():
    libs = {}
    if "torch" not in ARGS.skip:
        try:
            import torch
            tdt = {"float32": torch.float32, "float64": torch.float64}

            def torch_orth(m, n, dt, threads):
                torch.set_num_threads(threads)
                return torch.nn.init.orthogonal_(torch.empty(m, n, dtype=tdt[dt]))
            libs["torch"] = torch_orth
        except ImportError:
            print("torch not installed: skipped")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if "numpy" not in ARGS.skip:
        if threadpool_limits is None:
            print("threadpoolctl not installed: numpy QR skipped (its thread count cannot be set)")
        else:
            rng = np.random.default_rng(0)

            def numpy_qr(m, n, dt, threads):
                with threadpool_limits(threads):
                    a = rng.standard_normal((max(m, n), min(m, n)), dtype=dt)
                    q, r = np.linalg.qr(a)
                    q *= np.where(np.diag(r) < 0, -1, 1).astype(dt)
                    return q if m >= n else q.T
            libs["numpy QR"] = numpy_qr
    if "scipy" not in ARGS.skip and threadpool_limits is None:
        print("threadpoolctl not installed: scipy ortho_group skipped (its thread count cannot be set)")
    elif "scipy" not in ARGS.skip:
        from scipy.stats import ortho_group

        def scipy_og(m, n, dt, threads):
            if m != n:
                return None  # square only
            with threadpool_limits(threads):
                return ortho_group.rvs(n, random_state=0).astype(dt, copy=False)
        libs["scipy ortho_group"] = scipy_og
    return libs


def main():
    if ARGS._big_child:
        big_child()
        return
    paths = ARGS.paths or list(reversed(wi.available_simd_paths()))  # fastest first
    for p in paths:
        if p not in wi.available_simd_paths():
            sys.exit(f"SIMD path {p!r} not available here: {wi.available_simd_paths()}")
    peaks = peaks_per_thread_count()
    libs = other_libs()
    print(f"repeat={ARGS.repeat} (best)  load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    head = f"{'shape':>10} {'dtype':>7} {'thr':>3}"
    width = {name: max(10, len(name)) for name in libs}
    for name in libs:
        head += f" | {name:>{width[name]}}"
    for p in paths:
        head += f" | {p + ' s':>8} {'GFLOP/s':>7} {'%peak':>5} {'x ' + ('torch' if 'torch' in libs else '-'):>7}"
    others = [n for n in libs if n != "torch"]
    if others:
        head += " | " + " ".join(f"{'x ' + n:>{width[n] + 2}}" for n in others) + f" ({paths[0]})"
    print(head)
    saved = os.environ.get("WEIGHTINIT_SIMD")
    try:
        for size in ARGS.sizes:
            m, n = (int(x) for x in size.split("x"))
            for dt in ARGS.dtypes:
                for th in ARGS.threads:
                    line = f"{size:>10} {dt:>7} {th:>3}"
                    t_lib = {}
                    for name, fn in libs.items():
                        if fn(64, 64, dt, th) is None or fn(m, n, dt, th) is None:
                            line += f" | {'n/a':>{width[name]}}"
                            continue
                        t_lib[name] = best(lambda: fn(m, n, dt, th), ARGS.repeat)
                        line += f" | {t_lib[name]:{width[name] - 1}.3f}s"
                    peak = peaks[th] / (2 if dt == "float64" else 1)
                    t_first = None
                    for p in paths:
                        if p == "scalar" and flops(m, n) / 1e9 > ARGS.scalar_max_gflop:
                            line += f" | {'n/a':>8} {'':>7} {'':>5} {'':>7}"
                            continue
                        os.environ["WEIGHTINIT_SIMD"] = p
                        out = np.zeros((m, n), dt)  # pages touched outside the timing
                        reps = ARGS.repeat
                        if p != "scalar":
                            wi.orthogonal_(out, seed=0, threads=th)  # warm-up
                        else:
                            reps = 1  # about 1 GFLOP/s: one run says enough
                        tw = best(lambda: wi.orthogonal_(out, seed=0, threads=th), reps)
                        t_first = tw if t_first is None else t_first
                        gf = flops(m, n) / tw / 1e9
                        ratio = f"{t_lib['torch'] / tw:6.2f}x" if "torch" in t_lib else f"{'':>7}"
                        line += f" | {tw:7.3f}s {gf:7.1f} {100 * gf / peak:4.0f}% {ratio}"
                    if others:
                        line += " | " + " ".join(
                            f"{t_lib[nm] / t_first:{width[nm] + 1}.2f}x" if nm in t_lib and t_first else f"{'n/a':>{width[nm] + 2}}"
                            for nm in others)
                    print(line, flush=True)
    finally:
        if saved is None:
            os.environ.pop("WEIGHTINIT_SIMD", None)
        else:
            os.environ["WEIGHTINIT_SIMD"] = saved
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if ARGS.big:
        cmd = [sys.executable, __file__, "--threads", str(max(ARGS.threads)), "--_big-child"]
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
