"""`weightinit inspect`: per-tensor dtype, shape, scheme and statistics of a checkpoint."""
from __future__ import annotations

import json
import math
import sys


def register(sub) -> None:
    p = sub.add_parser("inspect", help="show the tensors of a checkpoint with measured vs expected statistics")
    p.add_argument("path", help="a .safetensors file, an index .json, or a checkpoint directory")
    p.add_argument("--no-stats", action="store_true", help="only read the headers")
    p.add_argument("--json", action="store_true", help="print one JSON object per tensor")
    p.set_defaults(func=run)


def _f(x, width=10, prec=4):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return f"{'-':>{width}}"
    return f"{x:>{width}.{prec}g}"


def _scheme_str(s) -> str:
    if not s:
        return "-"
    params = ",".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in s.items() if k != "name")
    return f"{s['name']}({params})"


def run(args) -> int:
    from weightinit.checkpoint import inspect_checkpoint

    rows, meta = inspect_checkpoint(args.path, stats=not args.no_stats)
    for r in rows:
        if "scheme_error" in r:
            print(f"weightinit inspect: tensor {r['name']!r}: invalid recorded scheme: {r['scheme_error']}",
                  file=sys.stderr)
    if args.json:
        for r in rows:
            print(json.dumps({**r, "shape": list(r["shape"])}))
        return 0
    if meta:
        print("  ".join(f"{k}={v}" for k, v in meta.items()))
    wname = max([len(r["name"]) for r in rows] + [6])
    wsch = max([len(_scheme_str(r["scheme"])) for r in rows] + [6])
    wdt = max([len(r["dtype"]) for r in rows] + [8])
    print(f"{'tensor':<{wname}}  {'dtype':<{wdt}} {'shape':<16} {'scheme':<{wsch}} {'exp.std':>10}"
          f"{'mean':>11}{'std':>11}{'min':>11}{'max':>11}")
    for r in rows:
        shape = "x".join(map(str, r["shape"])) or "()"
        print(f"{r['name']:<{wname}}  {r['dtype']:<{wdt}} {shape:<16} {_scheme_str(r['scheme']):<{wsch}} "
              f"{_f(r['expected_std'])} {_f(r.get('mean'))} {_f(r.get('std'))} {_f(r.get('min'))} {_f(r.get('max'))}")
    total = sum(math.prod(r["shape"]) for r in rows)
    print(f"{len(rows)} tensors, {total:,} parameters")
    return 0
