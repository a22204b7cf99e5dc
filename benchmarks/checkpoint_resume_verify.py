"""What resuming and verifying cost, against a fresh run and the disk's own rate.

    python benchmarks/checkpoint_resume_verify.py --dir /path/on/the/target/disk [--layers 20]

On the llama preset at TinyLlama-like widths (default 20 layers: 1.03e9 parameters,
2.07 GB in bfloat16), in one run:

1. fresh: create_checkpoint from nothing (fsync'd, published);
2. resume after an interruption halfway: a run stopped (KeyboardInterrupt) after half
   of the chunks, then timed: the resumed run (reads back and checks the recorded
   chunks' checksums, writes the rest, publishes);
3. resume with everything written but not published: the check alone;
4. verify: weightinit verify of the finished checkpoint (regenerate and compare);
5. dd: the same number of bytes written through the page cache (conv=fsync) and with
   O_DIRECT, and read back with O_DIRECT (the disk's own rates).

os.sync() runs before every timed step; the writer drops written pages from the page
cache as it goes (posix_fadvise), so reads come from the disk, not memory. Timings on a
shared machine are noisy: the load average is printed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time

from weightinit.checkpoint import create_checkpoint, preset, verify_checkpoint, writer
from weightinit.checkpoint.plan import Plan


def _timed(fn):
    os.sync()
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temporary one)")
    ap.add_argument("--layers", type=int, default=20)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="wi-resume-", dir=args.dir)
    spec = preset("llama", hidden_size=2048, intermediate_size=5632, num_hidden_layers=args.layers,
                  num_attention_heads=32, num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048)
    kw = dict(dtype="bfloat16", seed=0, progress=False, threads=args.threads)
    print(f"load average {os.getloadavg()[0]:.2f}; {spec.num_parameters / 1e9:.2f}e9 parameters, bfloat16")
    rows = []
    try:
        out = os.path.join(base, "fresh")
        t_fresh, res = _timed(lambda: create_checkpoint(spec, out, **kw))
        nbytes = res.nbytes
        rows.append(("fresh create", t_fresh, nbytes))
        t_verify, rep = _timed(lambda: verify_checkpoint(out, threads=args.threads))
        assert rep.ok, rep.mismatches
        rows.append(("verify (regenerate + compare)", t_verify, nbytes))
        shutil.rmtree(out)

        half = os.path.join(base, "half")
        n_chunks = sum(1 for _ in Plan(spec, half, "safetensors", 0, "bfloat16", None).chunks(writer.CHUNK_BYTES))

        def stop_at(g, at=n_chunks // 2):
            if g == at:
                raise KeyboardInterrupt
        writer._chunk_hook = stop_at
        try:
            create_checkpoint(spec, half, **kw)
        except KeyboardInterrupt:
            pass
        writer._chunk_hook = None
        t_half, res = _timed(lambda: create_checkpoint(spec, half, resume=True, **kw))
        rows.append((f"resume after {res.resumed_bytes / nbytes:.0%} written", t_half, nbytes))
        shutil.rmtree(half)

        full = os.path.join(base, "full")
        publish = writer.publish
        writer.publish = None        # stop right before publishing: everything written and fsync'd
        try:
            create_checkpoint(spec, full, **kw)
        except TypeError:
            pass
        writer.publish = publish
        t_check, res = _timed(lambda: create_checkpoint(spec, full, resume=True, **kw))
        assert res.resumed_bytes == nbytes
        rows.append(("resume with all written (check only)", t_check, nbytes))
        shutil.rmtree(full)

        mib = nbytes >> 20
        ddfile = os.path.join(base, "dd.bin")
        for label, flags in (("dd write, page cache + fsync", ["conv=fsync"]),
                             ("dd write, O_DIRECT + fsync", ["oflag=direct", "conv=fsync"])):
            t_dd, _ = _timed(lambda: subprocess.run(["dd", "if=/dev/zero", f"of={ddfile}", "bs=32M",
                                                      f"count={mib // 32}", *flags],
                                                     check=True, capture_output=True))
            rows.append((label, t_dd, (mib // 32) << 25))
        t_rd, _ = _timed(lambda: subprocess.run(["dd", f"if={ddfile}", "of=/dev/null", "bs=32M", "iflag=direct"],
                                                 check=True, capture_output=True))
        rows.append(("dd read, O_DIRECT", t_rd, (mib // 32) << 25))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"{'step':<40}{'seconds':>9}{'GB/s':>8}{'vs fresh':>10}")
    for name, t, n in rows:
        print(f"{name:<40}{t:>9.2f}{n / t / 1e9:>8.2f}{t / t_fresh:>9.2f}x")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
