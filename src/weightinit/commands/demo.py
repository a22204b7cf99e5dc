"""`weightinit demo`: fill a large buffer and report throughput and statistics."""
from __future__ import annotations

import time

import numpy as np

from weightinit._buffers import SUPPORTED


def register(sub) -> None:
    p = sub.add_parser("demo", help="fill a buffer (1 GiB by default) and print throughput and statistics")
    p.add_argument("--gib", type=float, default=1.0, help="buffer size in GiB (default 1)")
    p.add_argument("--dtype", default="float32", choices=list(SUPPORTED),
                   help="element type of the buffer (default float32)")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads of the fill kernels (default: WEIGHTINIT_NUM_THREADS or every usable core)")
    p.set_defaults(func=run)


def run(args) -> int:
    import weightinit as wi
    from weightinit._buffers import _BF16, FLOAT8
    from weightinit._threads import resolve_threads

    import math
    from weightinit._memory import check_fits
    if not (math.isfinite(args.gib) and args.gib > 0):
        raise ValueError(f"--gib must be a positive number of GiB, got {args.gib}")
    dtype = _BF16 if args.dtype == "bfloat16" else FLOAT8.get(args.dtype) or np.dtype(args.dtype)
    n = int(args.gib * 2**30) // dtype.itemsize
    if n < 1:
        raise ValueError(f"--gib {args.gib} is less than one {args.dtype} element")
    check_fits(n * dtype.itemsize, f"--gib {args.gib:g}")
    threads = resolve_threads(args.threads)   # the count actually used, printed below
    out = np.empty(n, dtype)
    wi.zeros_(out, threads=threads)   # touch the pages first: measure the kernel, not page faults
    print(f"weightinit {wi.__version__}: {n:,} {args.dtype} elements ({n * dtype.itemsize / 2**30:.2f} GiB), "
          f"SIMD path {wi.simd_path()}, {threads} thread{'s' if threads > 1 else ''}")
    step = max(1, n // 4_000_000)
    if step > 1:
        print(f"mean and std are estimated from a sample of {len(range(0, n, step)):,} elements "
              f"(one in {step:,}); min and max are over all {n:,}")
    else:
        print(f"mean, std, min and max are over all {n:,} elements")
    print(f"{'distribution':<28}{'seconds':>9}{'Gelem/s':>9}{'GB/s':>7}{'mean':>10}{'std':>9}{'min':>9}{'max':>9}")
    for label, fn in [
        ("uniform [-1, 1)", lambda: wi.uniform_(out, -1.0, 1.0, seed=args.seed, threads=threads)),
        ("normal (0, 1)", lambda: wi.normal_(out, 0.0, 1.0, seed=args.seed, threads=threads)),
        ("trunc_normal (0, 1, -2, 2)", lambda: wi.trunc_normal_(out, seed=args.seed, threads=threads)),
    ]:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        sample = out[::step].astype(np.float64)
        print(f"{label:<28}{dt:>9.3f}{n / dt / 1e9:>9.2f}{n * dtype.itemsize / dt / 1e9:>7.1f}"
              f"{sample.mean():>10.4f}{sample.std():>9.4f}{out.min().astype(np.float64):>9.3f}{out.max().astype(np.float64):>9.3f}")
    return 0
