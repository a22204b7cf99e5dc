"""Float32 FMA peak of this machine, measured: the yardstick for the orthogonal_
GFLOP/s figures (compare_orthogonal.py prints its result as % of this peak).

    python benchmarks/fma_peak.py [--seconds 0.5] [--repeat 5] [--threads 1 2 ...]

Compiles a tiny C loop (gcc, -O2 -mavx2 -mfma; -mavx512f where the CPU has it)
of 12 independent chains of vector FMAs (enough to cover 2 pipes x 4-5 cycles of
latency), calls it through ctypes from 1..N Python threads at once (ctypes drops
the GIL), and prints the best float32 GFLOP/s per thread count (an FMA counts 2
flops per lane). Also prints the theoretical figure from /proc/cpuinfo's clock:
cores x clock x FMA pipes x lanes x 2. If the 2-thread figure is twice the
1-thread one, the vCPUs are separate physical cores (SMT siblings share the FMA
pipes and would add nothing).

--json prints the measured all-thread peak as one JSON line as well (used by
compare_orthogonal.py).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

C_SOURCE = r"""
#include <immintrin.h>
#include <stdint.h>
#if defined(USE_AVX512)
typedef __m512 V;
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
#define LANES 16
#else
typedef __m256 V;
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
#define LANES 8
#endif
int lanes(void) { return LANES; }
/* 12 independent chains x iters FMAs; returns a value so nothing is dropped */
float fma_chains(int64_t iters, float x) {
    V a0 = SET1(x), a1 = SET1(x + 1), a2 = SET1(x + 2), a3 = SET1(x + 3), a4 = SET1(x + 4),
      a5 = SET1(x + 5), a6 = SET1(x + 6), a7 = SET1(x + 7), a8 = SET1(x + 8), a9 = SET1(x + 9),
      a10 = SET1(x + 10), a11 = SET1(x + 11);
    V m = SET1(0.999999f), c = SET1(1e-7f);
    for (int64_t i = 0; i < iters; i++) {
        a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c); a3 = FMA(a3, m, c);
        a4 = FMA(a4, m, c); a5 = FMA(a5, m, c); a6 = FMA(a6, m, c); a7 = FMA(a7, m, c);
        a8 = FMA(a8, m, c); a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c);
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
    }
    V s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));
    s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));
    float out[LANES];
    STORE(out, s);
    float t = 0;
    for (int i = 0; i < LANES; i++) t += out[i];
    return t;
}
"""
CHAINS = 12


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_mhz():
    mhz = []
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("cpu MHz"):
                mhz.append(float(line.split(":")[1]))
    return max(mhz) if mhz else None


def build(avx512):
    d = tempfile.mkdtemp(prefix="fma_peak_")
    src, lib = os.path.join(d, "fma.c"), os.path.join(d, "fma.so")
    with open(src, "w") as f:
        f.write(C_SOURCE)
    flags = ["-O2", "-shared", "-fPIC", "-mavx2", "-mfma"]
    if avx512:
        flags += ["-mavx512f", "-DUSE_AVX512"]
    subprocess.run(["gcc", *flags, src, "-o", lib], check=True)
    so = ctypes.CDLL(lib)
    so.fma_chains.argtypes = [ctypes.c_int64, ctypes.c_float]
    so.fma_chains.restype = ctypes.c_float
    return so


def measure(so, nthreads, seconds):
    lanes = so.lanes()
    # calibrate the iteration count to about `seconds` on one thread
    iters = 1 << 20
    while True:
        t = time.perf_counter()
        so.fma_chains(iters, 1.0)
        dt = time.perf_counter() - t
        if dt > 0.05:
            break
        iters *= 4
    iters = int(iters * seconds / dt)
    barrier = threading.Barrier(nthreads + 1)
    def work():
        barrier.wait()
        so.fma_chains(iters, 1.0)
    ths = [threading.Thread(target=work) for _ in range(nthreads)]
    for th in ths:
        th.start()
    barrier.wait()
    t = time.perf_counter()
    for th in ths:
        th.join()
    dt = time.perf_counter() - t
    return nthreads * iters * CHAINS * lanes * 2 / dt / 1e9


def measure_peaks(threads, seconds=0.5, repeat=5):
    """{thread count: best measured float32 GFLOP/s}, and the FMA lane count."""
    flags = cpu_flags()
    if not {"avx2", "fma"} <= flags:
        raise RuntimeError("this CPU has no AVX2+FMA: nothing to measure")
    so = build("avx512f" in flags)
    return {n: max(measure(so, n, seconds) for _ in range(repeat)) for n in threads}, so.lanes()


def main():
    ncpu = len(os.sched_getaffinity(0))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=0.5)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, nargs="*", default=sorted({1, ncpu}))
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    flags = cpu_flags()
    if not {"avx2", "fma"} <= flags:
        sys.exit("this CPU has no AVX2+FMA: nothing to measure")
    avx512 = "avx512f" in flags
    so = build(avx512)
    lanes = so.lanes()
    mhz = cpu_mhz()
    print(f"{ncpu} usable cpus, {'AVX-512' if avx512 else 'AVX2'} FMA, {lanes} float32 lanes, "
          f"cpuinfo clock {mhz:.0f} MHz")
    peaks = {}
    for n in a.threads:
        runs = [measure(so, n, a.seconds) for _ in range(a.repeat)]
        peaks[n] = max(runs)
        print(f"threads={n}: best {peaks[n]:.1f} GFLOP/s  ({peaks[n] / n:.1f} per thread; "
              f"runs {' '.join(f'{r:.1f}' for r in runs)})")
    if mhz:
        theo1 = mhz / 1e3 * 2 * lanes * 2
        print(f"theoretical at the cpuinfo clock: {mhz / 1e3:.3f} GHz x 2 FMA pipes x {lanes} lanes x 2 flops "
              f"= {theo1:.1f} GFLOP/s per core, {theo1 * ncpu:.1f} with {ncpu} cores "
              f"(2 FMA pipes: Zen 2-4, Intel since Haswell, server AVX-512 parts; some have 1)")
        for n, pk in peaks.items():
            print(f"  threads={n}: measured = {pk / n / (mhz / 1e3):.1f} flops/cycle/thread at that clock")
    if 1 in peaks and ncpu in peaks and ncpu > 1:
        scale = peaks[ncpu] / peaks[1]
        print(f"scaling 1 -> {ncpu} threads: {scale:.2f}x "
              f"({'separate physical cores' if scale > 0.75 * ncpu else 'shared FMA pipes (SMT siblings?)'})")
    peak = max(peaks.values())
    print(f"peak assumed: {peak:.1f} GFLOP/s float32 (measured, {max(peaks, key=peaks.get)} threads)")
    one = peaks[min(peaks)] / min(peaks)
    print(f"implied clock under this load: {one / (2 * lanes * 2):.2f} GHz per core "
          f"(measured GFLOP/s per thread / (2 pipes x {lanes} lanes x 2))")
    if a.json:
        print(json.dumps({"peak_gflops": peak, "per_thread": {str(k): v / k for k, v in peaks.items()}}))


if __name__ == "__main__":
    main()
