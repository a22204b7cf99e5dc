"""Checkpoint creation benchmark: weightinit vs `dd` vs the PyTorch route.

    python benchmarks/compare_checkpoint.py --dir /path/on/the/target/disk

1. weightinit: a ~1e9-parameter bfloat16 llama-style checkpoint (llama preset,
   TinyLlama-like widths, 20 layers: 1.03e9 parameters, 2.07 GB), written with
   create_checkpoint (fsync'd before it returns).
2. dd: the same number of bytes of zeros, `dd if=/dev/zero bs=1M count=N conv=fsync`,
   into the same directory.
3. PyTorch route on a smaller model (default 6 layers, ~0.36e9 parameters): every
   tensor built with torch.nn.init (same shapes, dtype and distributions), then
   safetensors.torch.save_file and an fsync; against weightinit on the same model.

Each measurement runs in its own process, which reports its wall time and peak RSS
(VmHWM from /proc/self/status: includes the interpreter and numpy, about 40-60 MiB). The
page cache is synced (os.sync) before every timed run. Outputs are deleted after each
run (use --keep to keep the last ones). Targets: >= 0.8x the dd rate, peak RSS
< 512 MiB, >= 10x faster than the PyTorch route. Timings on a shared machine are
noisy: the load average is printed before and after.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

BIG = {"hidden_size": 2048, "intermediate_size": 5632, "num_attention_heads": 32, "num_key_value_heads": 4,
       "vocab_size": 32000, "num_hidden_layers": 20}


def _peak_rss_mib() -> float:
    """VmHWM of this process. (ru_maxrss also keeps the RSS the forked parent had
    before exec, so it over-reports for a child of a big parent.)"""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_spec(layers: int, scheme: str):
    """The llama preset; with scheme='trunc_normal' its normal(0, s) tensors become
    trunc_normal(0, s, -2s, 2s) (as timm / many pre-training recipes use)."""
    import dataclasses
    from weightinit.checkpoint import preset
    from weightinit.checkpoint.spec import _schemes
    spec = preset("llama", {**BIG, "num_hidden_layers": layers}, dtype="bfloat16", seed=0)
    if scheme == "trunc_normal":
        for i, t in enumerate(spec.tensors):
            d = t.scheme.to_dict()
            if d["name"] == "normal":
                sd = d["std"]
                spec.tensors[i] = dataclasses.replace(
                    t, scheme=_schemes.get("trunc_normal", mean=0.0, std=sd, a=-2 * sd, b=2 * sd))
    return spec


def child_weightinit(args) -> dict:
    import weightinit
    from weightinit.checkpoint import writer
    if args.chunk_mib:
        writer.CHUNK_BYTES = int(args.chunk_mib * 2**20)
    spec = make_spec(args.layers, args.scheme)
    rss0 = _peak_rss_mib()
    t0 = time.perf_counter()
    res = weightinit.create_checkpoint(spec, args.out, progress=False, threads=args.threads)
    dt = time.perf_counter() - t0
    return {"seconds": dt, "bytes": sum(os.path.getsize(f) for f in res.files), "params": res.num_parameters,
            "peak_rss_mib": _peak_rss_mib(), "rss_before_mib": rss0}


def child_torch(args) -> dict:
    import torch
    from safetensors.torch import save_file
    spec = make_spec(args.layers, args.scheme)
    t0 = time.perf_counter()
    tensors = {}
    for t in spec.tensors:
        x = torch.empty(t.shape, dtype=torch.bfloat16)
        s = t.scheme.to_dict()
        if s["name"] == "normal":
            torch.nn.init.normal_(x, s.get("mean", 0.0), s["std"])
        elif s["name"] == "trunc_normal":
            torch.nn.init.trunc_normal_(x, s["mean"], s["std"], s["a"], s["b"])
        elif s["name"] == "ones":
            torch.nn.init.ones_(x)
        else:
            torch.nn.init.zeros_(x)
        tensors[t.name] = x
    t_init = time.perf_counter() - t0
    path = os.path.join(args.out, "model.safetensors")
    os.makedirs(args.out, exist_ok=True)
    save_file(tensors, path, metadata={"format": "pt"})
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    dt = time.perf_counter() - t0
    return {"seconds": dt, "init_seconds": t_init, "bytes": os.path.getsize(path),
            "params": sum(x.numel() for x in tensors.values()), "peak_rss_mib": _peak_rss_mib(),
            "torch_threads": torch.get_num_threads()}


def run_child(kind: str, out: str, layers: int, args, scheme: str = "normal") -> dict:
    os.sync()
    cmd = [sys.executable, __file__, "--_child", kind, "--_out", out, "--_layers", str(layers), "--scheme", scheme]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.chunk_mib:
        cmd += ["--chunk-mib", str(args.chunk_mib)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{kind} run failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_dd(path: str, nbytes: int) -> dict:
    os.sync()
    count = -(-nbytes // 2**20)
    t0 = time.perf_counter()
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={count}", "conv=fsync"],
                   check=True, capture_output=True)
    dt = time.perf_counter() - t0
    size = os.path.getsize(path)
    os.unlink(path)
    return {"seconds": dt, "bytes": size}


def _rm(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.unlink(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=None, help="directory on the disk to test (default: a temp dir under .)")
    ap.add_argument("--layers", type=int, default=20, help="layers of the big model (20: 1.03e9 parameters)")
    ap.add_argument("--torch-layers", type=int, default=6, help="layers of the model for the PyTorch comparison")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--chunk-mib", type=float, default=None, help="override the writer's chunk size")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--torch-schemes", default="normal,trunc_normal",
                    help="distributions for the PyTorch comparison (normal: the preset's init)")
    ap.add_argument("--scheme", default="normal", help=argparse.SUPPRESS)
    ap.add_argument("--keep", action="store_true", help="keep the last outputs")
    ap.add_argument("--_child", choices=["wi", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--_out", help=argparse.SUPPRESS)
    ap.add_argument("--_layers", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        args.out, args.layers = args._out, args._layers
        print(json.dumps(child_weightinit(args) if args._child == "wi" else child_torch(args)))
        return 0

    base = tempfile.mkdtemp(prefix="wi-bench-", dir=args.dir or ".")
    print(f"directory {os.path.abspath(base)}; load average {open('/proc/loadavg').read().split()[:3]}; "
          f"cores {len(os.sched_getaffinity(0))}; free disk {shutil.disk_usage(base).free / 1e9:.0f} GB")
    try:
        wi_runs, dd_runs = [], []
        for i in range(args.repeats):
            out = os.path.join(base, "wi")
            r = run_child("wi", out, args.layers, args)
            if not (args.keep and i == args.repeats - 1):
                _rm(out)
            wi_runs.append(r)
            d = run_dd(os.path.join(base, "dd.bin"), r["bytes"])
            dd_runs.append(d)
            print(f"  run {i + 1}: weightinit {r['bytes'] / r['seconds'] / 1e9:.2f} GB/s "
                  f"({r['seconds']:.2f} s, peak RSS {r['peak_rss_mib']:.0f} MiB); "
                  f"dd {d['bytes'] / d['seconds'] / 1e9:.2f} GB/s ({d['seconds']:.2f} s)")
        best_wi = min(wi_runs, key=lambda r: r["seconds"])
        best_dd = min(dd_runs, key=lambda r: r["seconds"])
        wi_rate = best_wi["bytes"] / best_wi["seconds"] / 1e9
        dd_rate = best_dd["bytes"] / best_dd["seconds"] / 1e9
        peak = max(r["peak_rss_mib"] for r in wi_runs)
        print(f"weightinit: {best_wi['params'] / 1e9:.3f}e9 bfloat16 parameters, {best_wi['bytes'] / 1e9:.2f} GB "
              f"in {best_wi['seconds']:.2f} s = {wi_rate:.2f} GB/s (best of {args.repeats}), "
              f"peak RSS {peak:.0f} MiB (target < 512)")
        print(f"dd conv=fsync: {best_dd['bytes'] / 1e9:.2f} GB in {best_dd['seconds']:.2f} s = {dd_rate:.2f} GB/s "
              f"(best of {args.repeats})")
        print(f"ratio weightinit / dd: {wi_rate / dd_rate:.2f}x (target >= 0.8)")
        if not args.no_torch:
            import importlib.util
            if importlib.util.find_spec("torch") is None or importlib.util.find_spec("safetensors") is None:
                print("PyTorch route skipped: torch or safetensors not installed")
            else:
                for scheme in args.torch_schemes.split(","):
                    out = os.path.join(base, "torch")
                    t = run_child("torch", out, args.torch_layers, args, scheme)
                    _rm(out)
                    out = os.path.join(base, "wi-small")
                    w = run_child("wi", out, args.torch_layers, args, scheme)
                    _rm(out)
                    print(f"[{scheme}] PyTorch route ({t['params'] / 1e9:.3f}e9 parameters, torch.nn.init + "
                          f"save_file + fsync, {t['torch_threads']} torch threads): {t['seconds']:.2f} s "
                          f"(init {t['init_seconds']:.2f} s), peak RSS {t['peak_rss_mib']:.0f} MiB")
                    print(f"[{scheme}] weightinit on the same model: {w['seconds']:.2f} s, "
                          f"peak RSS {w['peak_rss_mib']:.0f} MiB")
                    print(f"[{scheme}] speedup vs PyTorch route: {t['seconds'] / w['seconds']:.1f}x (target >= 10)")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
