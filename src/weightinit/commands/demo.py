"""`weightinit demo`: fill a large buffer and report throughput and statistics."""
from __future__ import annotations

import time

import numpy as np


def register(sub) -> None:
    p = sub.add_parser("demo", help="fill a buffer (1 GiB by default) and print throughput and statistics")
    p.add_argument("--gib", type=float, default=1.0, help="buffer size in GiB (default 1)")
    p.add_argument("--dtype", default="float32", choices=["float64", "float32", "float16", "bfloat16"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    p.set_defaults(func=run)


def run(args) -> int:
    import weightinit as wi
    from weightinit._buffers import _BF16

    if args.gib <= 0:
        raise ValueError(f"--gib must be positive, got {args.gib}")
    dtype = _BF16 if args.dtype == "bfloat16" else np.dtype(args.dtype)
    n = int(args.gib * 2**30) // dtype.itemsize
    out = np.empty(n, dtype)
    wi.zeros_(out, threads=args.threads)   # touch the pages first: measure the kernel, not page faults
    print(f"weightinit {wi.__version__}: {n:,} {args.dtype} elements ({n * dtype.itemsize / 2**30:.2f} GiB), "
          f"SIMD path {wi.simd_path()}, threads {args.threads or 'all'}")
    print(f"{'distribution':<28}{'seconds':>9}{'Gelem/s':>9}{'GB/s':>7}{'mean':>10}{'std':>9}{'min':>9}{'max':>9}")
    for label, fn in [
        ("uniform [-1, 1)", lambda: wi.uniform_(out, -1.0, 1.0, seed=args.seed, threads=args.threads)),
        ("normal (0, 1)", lambda: wi.normal_(out, 0.0, 1.0, seed=args.seed, threads=args.threads)),
        ("trunc_normal (0, 1, -2, 2)", lambda: wi.trunc_normal_(out, seed=args.seed, threads=args.threads)),
    ]:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        sample = out[:: max(1, n // 4_000_000)].astype(np.float64)
        print(f"{label:<28}{dt:>9.3f}{n / dt / 1e9:>9.2f}{n * dtype.itemsize / dt / 1e9:>7.1f}"
              f"{sample.mean():>10.4f}{sample.std():>9.4f}{out.min().astype(np.float64):>9.3f}{out.max().astype(np.float64):>9.3f}")
    return 0
