"""`weightinit verify`: regenerate every tensor from the recorded seed and schemes and
compare it with the bytes on disk."""
from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser(
        "verify", help="prove that a checkpoint holds exactly its recorded initialization",
        description="Regenerate every tensor of a checkpoint written by weightinit from the seed and schemes in "
                    "its metadata and compare it bit for bit with the file, chunk by chunk. Exit code 0: "
                    "everything matches; 1: a tensor differs or cannot be regenerated (each is named, with its "
                    "first differing element); 2: the checkpoint cannot be read.")
    p.add_argument("path", help="a .safetensors file, an index .json, or a checkpoint directory")
    p.add_argument("--threads", type=int, default=None, help="threads of the fill kernels (default: all cores)")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run)


def run(args) -> int:
    from weightinit.checkpoint import verify_checkpoint

    report = verify_checkpoint(args.path, threads=args.threads)
    if args.json:
        print(json.dumps({"path": report.path, "seed": report.seed, "tensors": report.tensors,
                          "bytes": report.nbytes, "seconds": report.seconds, "ok": report.ok,
                          "mismatches": report.mismatches,
                          "unverifiable": [{"name": n, "reason": r} for n, r in report.unverifiable]}))
        return 0 if report.ok else 1
    for m in report.mismatches:
        pos = ", ".join(map(str, m["position"]))
        print(f"differs: {m['name']}: first at element ({pos}): expected {m['expected']!r}, found {m['found']!r}")
    for name, reason in report.unverifiable:
        print(f"not verified: {name}: {reason}")
    rate = report.nbytes / max(report.seconds, 1e-9) / 1e9
    bad = len(report.mismatches) + len(report.unverifiable)
    verdict = "all match" if report.ok else f"{bad} of {report.tensors} tensors do not match"
    print(f"{report.path}: {report.tensors} tensors, {report.nbytes:,} bytes checked against seed {report.seed} "
          f"in {report.seconds:.2f} s ({rate:.2f} GB/s): {verdict}")
    return 0 if report.ok else 1
