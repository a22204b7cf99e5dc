"""`weightinit create`: write a random-weight checkpoint from a spec or a preset."""
from __future__ import annotations

import json
import os


def register(sub) -> None:
    p = sub.add_parser(
        "create", help="write a randomly initialized checkpoint (safetensors or .npy) from a spec or preset",
        description="Write a checkpoint straight to disk, chunk by chunk, in bounded memory. "
                    "SPEC_OR_PRESET is a .toml/.json spec file or a preset (gpt2, llama).")
    p.add_argument("spec", nargs="?", metavar="SPEC_OR_PRESET",
                   help="spec file or preset name (default: the model_type of --config)")
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="a .safetensors file, or a directory (shards + index, .npy files, config.json)")
    p.add_argument("--config", metavar="CONFIG_JSON", help="Hugging Face config.json for a preset")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one preset config key (value parsed as JSON), e.g. --set n_layer=2")
    p.add_argument("--seed", type=int, default=None, help="global seed (default: the spec's, else random)")
    p.add_argument("--dtype", default=None, help="default dtype: float32, bfloat16, float16, float64")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--max-shard-size", default=None, metavar="SIZE", help="e.g. 5GB (10**9 bytes) or 4GiB")
    p.add_argument("--format", default="safetensors", choices=["safetensors", "npy"])
    p.add_argument("--resume", action="store_true", help="continue an interrupted run into the same PATH")
    p.add_argument("--overwrite", action="store_true", help="replace existing files at PATH once complete")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=run)


def _overrides(items) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set takes KEY=VALUE, got {item!r}")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def run(args) -> int:
    from weightinit.checkpoint import PRESETS, create_checkpoint, load_spec, preset

    target = args.spec
    if target is None:
        if args.config is None:
            raise ValueError("give SPEC_OR_PRESET, or --config with a model_type")
        with open(args.config, encoding="utf-8") as fh:
            target = json.load(fh).get("model_type")
        if target not in PRESETS:
            raise ValueError(f"--config model_type {target!r} is not a preset ({', '.join(PRESETS)})")
    if os.path.isfile(target):
        if args.config or args.set:
            raise ValueError("--config and --set apply to presets, not to spec files")
        spec = load_spec(target)
    elif target in PRESETS:
        spec = preset(target, args.config, **_overrides(args.set))
    else:
        raise ValueError(f"{target!r} is neither a spec file nor a preset ({', '.join(PRESETS)})")
    create_checkpoint(spec, args.output, seed=args.seed, dtype=args.dtype, threads=args.threads,
                      max_shard_size=args.max_shard_size, progress=not args.quiet, resume=args.resume,
                      format=args.format, overwrite=args.overwrite)
    return 0
