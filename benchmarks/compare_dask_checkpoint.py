"""Checkpoint writing on one machine against Dask clusters of 1 and 2 worker processes.

    python benchmarks/compare_dask_checkpoint.py --dir /path [--layers 10]

Llama preset at TinyLlama-like widths in bfloat16 (10 layers: 0.57e9 parameters,
1.1 GB), written (fsync'd, published) by create_checkpoint alone and with
client=LocalCluster(n_workers=N, threads_per_worker=1, processes=True), cluster start-up
not timed. Prints seconds, GB/s and the per-worker rate, which is what the model of a
large checkpoint in docs/distributed.md scales.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

from weightinit.checkpoint import create_checkpoint, preset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=None)
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    from dask.distributed import Client, LocalCluster
    spec = preset("llama", hidden_size=2048, intermediate_size=5632, num_hidden_layers=args.layers,
                  num_attention_heads=32, num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048)
    base = tempfile.mkdtemp(prefix="wi-dask-", dir=args.dir)
    print(f"{spec.num_parameters / 1e9:.2f}e9 parameters, bfloat16; load average {os.getloadavg()[0]:.2f}")
    try:
        for label, workers in (("one process (2 threads)", 0), ("Dask, 1 worker", 1), ("Dask, 2 workers", 2)):
            cluster = client = None
            if workers:
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
                client = Client(cluster)
            best = float("inf")
            for _ in range(args.repeats):
                out = os.path.join(base, "ckpt")
                shutil.rmtree(out, ignore_errors=True)
                os.sync()
                t0 = time.perf_counter()
                res = create_checkpoint(spec, out, dtype="bfloat16", seed=0, progress=False, client=client)
                best = min(best, time.perf_counter() - t0)
            if client is not None:
                client.close()
                cluster.close()
            per = f"{res.nbytes / best / 1e9 / workers:.2f} GB/s per worker" if workers else ""
            print(f"{label:<26}{best:>7.2f} s {res.nbytes / best / 1e9:>6.2f} GB/s  {per}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
