"""weightinit.torch against torch.nn.init, in one run:

    python benchmarks/compare_schemes.py [--threads N] [--size 16384] [--layers 12] [--repeat 3]

1. Whole-model init of a GPT-2-small-sized model (124M parameters with the default
   --layers 12; plain nn.Embedding / nn.Linear / nn.LayerNorm, tied lm_head):
   - init only, on an allocated model: torch's defaults (every module's
     reset_parameters(), i.e. what construction runs) vs weightinit.torch.init_module_;
   - end to end: torch's constructor (allocate + init) vs building on the meta
     device, ``to_empty(device="cpu")`` and init_module_.
2. kaiming_uniform_ and trunc_normal_ on a --size x --size float32 and bfloat16 tensor.

Both libraries run on the same threads (torch.set_num_threads; weightinit.torch uses
torch.get_num_threads()). Times are the best of --repeat runs, in seconds; "speed-up"
is torch's time over weightinit's.
"""
from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.init as tinit

import weightinit.torch as winit


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.attn_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)


class GPT2(nn.Module):
    def __init__(self, layers=12, d=768, vocab=50257, ctx=1024):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList(Block(d) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def torch_reset(model):
    with torch.no_grad():
        for m in model.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()


def row(what, t_torch, t_wi):
    print(f"{what:<48} {t_torch:>10.4f} {t_wi:>12.4f} {t_torch / t_wi:>9.1f}x", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--size", type=int, default=16384)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, best of {args.repeat}")
    print(f"{'':<48} {'torch (s)':>10} {'weightinit (s)':>12} {'speed-up':>9}")

    bench_model(args)
    for dtype in (torch.float32, torch.bfloat16):
        bench_tensor(args, dtype)


def bench_model(args):
    model = GPT2(args.layers)
    n = sum(p.numel() for p in model.parameters())
    label = f"GPT-2 ({args.layers} layers, {n / 1e6:.1f}M params)"
    winit.init_module_(model, seed=0)  # warm-up (both sides then write touched memory)
    row(f"{label} init", best(lambda: torch_reset(model), args.repeat),
        best(lambda: winit.init_module_(model, seed=0), args.repeat))

    def wi_build():
        with torch.device("meta"):
            m = GPT2(args.layers)
        winit.init_module_(m.to_empty(device="cpu"), seed=0)

    wi_build()  # warm-up: the first construction on the meta device is slow
    row(f"{label} construct+init", best(lambda: GPT2(args.layers), args.repeat),
        best(wi_build, args.repeat))


def bench_tensor(args, dtype):
    w = torch.empty(args.size, args.size, dtype=dtype)
    w.zero_()  # touch the pages once so that neither side pays the first-touch faults
    name = f"{args.size}x{args.size} {str(dtype).split('.')[1]}"
    for fn in ("kaiming_uniform_", "trunc_normal_"):
        kwargs = {"std": 0.02, "a": -0.04, "b": 0.04} if fn == "trunc_normal_" else {"a": math.sqrt(5)}
        row(f"{fn} {name}", best(lambda: getattr(tinit, fn)(w, **kwargs), args.repeat),
            best(lambda: getattr(winit, fn)(w, **kwargs), args.repeat))


if __name__ == "__main__":
    main()
