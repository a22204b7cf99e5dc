"""Random-init checkpoint from a transformers config: weightinit vs transformers itself.

    python benchmarks/compare_transformers.py [--dir /path/on/the/target/disk] [--models a,b]

For each model (configs built with AutoConfig.for_model, nothing downloaded), bfloat16:

1. weightinit: ``from_config(cfg, dtype="bfloat16")`` (the model's own init code,
   recorded on the meta device) then ``create_checkpoint(spec, out, progress=False)``;
   the time includes building the spec and the fsync create_checkpoint does.
2. transformers: ``AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)`` on the
   CPU (runs the model's init), ``model.save_pretrained(out)``, then an fsync of every
   written file and os.sync().

Models: qwen2-0.5b (Qwen2-0.5B shapes, 24 layers), qwen2-0.5b-2L (the same with 2
layers: weightinit's peak RSS should not grow with the model) and mixtral-1b (8 experts,
~1.0e9 parameters). Both routes use the same number of threads (torch.set_num_threads /
create_checkpoint(threads=)). Each measurement runs in its own process, which reports
its wall time (imports and config excluded) and peak RSS (VmHWM from /proc/self/status;
includes the interpreter, torch and transformers, shown as "base"). os.sync() runs
before every timed run; outputs are deleted afterwards (unless --keep). Targets:
weightinit >= 10x faster than transformers, its peak RSS flat from 2 to 24 layers.
Timings on a shared machine are noisy: the load average is printed before and after.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

QWEN2 = {"hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
         "num_key_value_heads": 2, "vocab_size": 151936, "max_position_embeddings": 32768,
         "tie_word_embeddings": True}
MODELS = {
    "qwen2-0.5b": ("qwen2", QWEN2),
    "qwen2-0.5b-2L": ("qwen2", {**QWEN2, "num_hidden_layers": 2}),
    # 20 layers of 46.7e6 parameters + 2 x 32.8e6 (embeddings, lm_head): 0.999e9
    "mixtral-1b": ("mixtral", {"hidden_size": 1024, "intermediate_size": 1792, "num_hidden_layers": 20,
                               "num_attention_heads": 16, "num_key_value_heads": 4, "num_local_experts": 8,
                               "num_experts_per_tok": 2, "vocab_size": 32000}),
}


def _peak_rss_mib() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM:"))


def _loadavg() -> list:
    with open("/proc/loadavg") as fh:
        return fh.read().split()[:3]


def child(route: str, model: str, out: str, threads: int) -> dict:
    """One timed run in this (fresh) process; imports and the config are set up first."""
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM
    import weightinit
    from weightinit.checkpoint.from_model import from_config
    torch.set_num_threads(threads)
    model_type, kwargs = MODELS[model]
    cfg = AutoConfig.for_model(model_type, **kwargs)
    AutoModelForCausalLM._model_mapping[type(cfg)]   # import the modeling module outside the clock
    base = _peak_rss_mib()
    t0 = time.perf_counter()
    if route == "weightinit":
        res = weightinit.create_checkpoint(from_config(cfg, dtype="bfloat16"), out, progress=False,
                                           threads=threads)
        params = res.num_parameters
    else:
        m = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
        m.save_pretrained(out)
        for name in os.listdir(out):
            fd = os.open(os.path.join(out, name), os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
        os.sync()
        params = m.num_parameters()
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_rss_mib": _peak_rss_mib(), "base_rss_mib": base, "params": params,
            "bytes": sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)),
            "torch_threads": torch.get_num_threads(), "versions": {
                "torch": torch.__version__, "transformers": transformers.__version__,
                "weightinit": weightinit.__version__, "simd": weightinit.simd_path()}}


def measure(route: str, model: str, args) -> dict:
    """Median seconds (max peak RSS) over args.repeat child processes."""
    runs = []
    for _ in range(args.repeat):
        out = os.path.join(args.base, f"{route}-{model}")
        shutil.rmtree(out, ignore_errors=True)
        os.sync()
        cmd = [sys.executable, os.path.abspath(__file__), "--child", route, model, out, str(args.threads)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)
        if r.returncode:
            raise SystemExit(f"{route} {model} failed:\n{r.stderr[-4000:]}")
        runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return {**runs[-1], "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in runs)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=None, help="where outputs go (default: a temp dir under /tmp)")
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma list of {', '.join(MODELS)}")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--skip-transformers", action="store_true", help="only the weightinit route")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement (median seconds)")
    ap.add_argument("--keep", action="store_true", help="keep the outputs")
    ap.add_argument("--child", nargs=4, metavar=("ROUTE", "MODEL", "OUT", "THREADS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        route, model, out, threads = args.child
        print(json.dumps(child(route, model, out, int(threads))))
        return 0

    models = args.models.split(",")
    unknown = set(models) - set(MODELS)
    if unknown:
        ap.error(f"unknown models {sorted(unknown)}; choose from {', '.join(MODELS)}")
    args.base = tempfile.mkdtemp(prefix="wi-bench-tf-", dir=args.dir)
    print(f"directory {args.base}; load average {_loadavg()}; cores {len(os.sched_getaffinity(0))}; "
          f"threads {args.threads}; repeat {args.repeat}", flush=True)
    rows, info = [], None
    try:
        for model in models:
            wi = measure("weightinit", model, args)
            tf = None if args.skip_transformers else measure("transformers", model, args)
            info = info or wi
            rows.append((model, wi, tf))
            print(f"  {model}: weightinit {wi['seconds']:.2f} s"
                  + ("" if tf is None else f", transformers {tf['seconds']:.2f} s"), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(args.base, ignore_errors=True)
    v = info["versions"]
    print(f"torch {v['torch']}, transformers {v['transformers']}, weightinit {v['weightinit']}, "
          f"simd_path {v['simd']}; threads: create_checkpoint {args.threads}, torch {info['torch_threads']}")
    head = ("model", "params", "bytes", "weightinit s", "wi peak MiB", "transformers s", "tf peak MiB", "speedup")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for model, wi, tf in rows:
        cells = [model, f"{wi['params'] / 1e9:.3f}e9", f"{wi['bytes'] / 1e9:.3f} GB", f"{wi['seconds']:.2f}",
                 f"{wi['peak_rss_mib']:.0f} (base {wi['base_rss_mib']:.0f})"]
        cells += ["-"] * 3 if tf is None else [f"{tf['seconds']:.2f}", f"{tf['peak_rss_mib']:.0f} (base "
                                               f"{tf['base_rss_mib']:.0f})", f"{tf['seconds'] / wi['seconds']:.1f}x"]
        print("| " + " | ".join(cells) + " |")
        if tf is not None and (tf["params"] != wi["params"] or abs(tf["bytes"] - wi["bytes"]) > 2**20):
            print(f"  note {model}: transformers wrote {tf['params']} parameters / {tf['bytes']} bytes, "
                  f"weightinit {wi['params']} / {wi['bytes']}")
    print(f"load average after: {_loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
