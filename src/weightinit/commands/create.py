"""`weightinit create`: write a random-weight checkpoint from a spec or a preset."""
from __future__ import annotations

import contextlib
import json
import os
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "create", help="write a randomly initialized checkpoint (safetensors or .npy) from a config, spec or preset",
        description="Write a checkpoint straight to disk, chunk by chunk, in bounded memory. With --config and no "
                    "SPEC_OR_PRESET, any transformers architecture is built from its config and initialized by "
                    "the model's own init code (needs torch and transformers); SPEC_OR_PRESET is a .toml/.json "
                    "spec file or a built-in preset (gpt2, llama) that needs neither.")
    p.add_argument("spec", nargs="?", metavar="SPEC_OR_PRESET",
                   help="spec file or preset name (default: the model of --config, through transformers)")
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="a .safetensors file, or a directory (shards + index, .npy files, config.json)")
    p.add_argument("--config", metavar="CONFIG_JSON", help="a Hugging Face config.json (or its directory)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config key (value parsed as JSON), e.g. --set num_hidden_layers=2")
    p.add_argument("--tokenizer", metavar="DIR", help="copy the tokenizer files of this local directory")
    p.add_argument("--seed", type=int, default=None, help="global seed (default: the spec's, else random)")
    p.add_argument("--dtype", default=None,
                   help="default dtype of the tensors: float32, bfloat16, float16, float64, float8_e4m3fn or "
                        "float8_e5m2 (default: the config's or the spec's)")
    p.add_argument("--threads", type=int, default=None, help="threads of the fill kernels (default: all cores)")
    p.add_argument("--max-shard-size", default=None, metavar="SIZE",
                   help="split the weights into shards of at most SIZE plus an index, as save_pretrained does "
                        "(e.g. 5GB = 10**9 bytes, or 4GiB); a larger tensor gets a shard of its own")
    p.add_argument("--format", default="safetensors", choices=["safetensors", "npy"],
                   help="safetensors (default) or one .npy per tensor")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run into the same PATH")
    p.add_argument("--overwrite", action="store_true", help="replace existing files at PATH once complete")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="fill the data on a Dask cluster (tcp://host:8786): its workers write their byte ranges of "
                        "the files directly, so PATH must be on a filesystem they share; the bytes are the same")
    p.add_argument("--workers", type=int, metavar="N",
                   help="fill the data on a local Dask cluster of N worker processes")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=run)


# files a tokenizer directory may hold (transformers' tokenizer and processor files)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "vocab.json", "merges.txt", "vocab.txt", "tokenizer.model", "spiece.model",
                   "sentencepiece.bpe.model", "chat_template.jinja", "chat_template.json")


def tokenizer_files(directory) -> dict:
    """{name: SourceFile} of the tokenizer files in `directory`; ValueError when it has none,
    or when one is a symlink that leads out of the directory (a planted link would copy
    any file the user can read into the output)."""
    from weightinit._files import SourceFile
    if not os.path.isdir(directory):
        raise ValueError(f"--tokenizer {directory!r} is not a directory")
    found = {}
    for name in TOKENIZER_FILES:
        path = os.path.join(directory, name)
        if not os.path.lexists(path):
            continue
        if os.path.islink(path) and not _link_allowed(directory, path):
            raise ValueError(f"--tokenizer {directory!r}: {name} is a symlink to {os.path.realpath(path)!r}, "
                             "outside the directory; copy the file in instead")
        found[name] = SourceFile(os.path.realpath(path), f"--tokenizer file {name}")   # streamed when written
    if not found:
        raise ValueError(f"--tokenizer {directory!r} holds no tokenizer file ({', '.join(TOKENIZER_FILES[:3])}, ...)")
    return found


def _link_allowed(directory, path) -> bool:
    """A symlink is followed when it stays inside `directory`, or when `directory` is a
    Hugging Face cache snapshot (REPO/snapshots/REV) and the link leads into REPO/blobs,
    where the hub keeps the files a snapshot names."""
    real_dir, target = os.path.realpath(directory), os.path.realpath(path)
    if os.path.commonpath([real_dir, target]) == real_dir:
        return True
    snapshots = os.path.dirname(real_dir)
    blobs = os.path.join(os.path.dirname(snapshots), "blobs")
    return os.path.basename(snapshots) == "snapshots" and os.path.dirname(target) == blobs


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


def _config_dict(path, overrides) -> dict:
    from weightinit._files import read_json
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
    cfg = read_json(path, "--config")
    if not isinstance(cfg, dict):
        raise ValueError(f"--config {path!r}: not a JSON object")
    return {**cfg, **overrides}


@contextlib.contextmanager
def _cluster(args):
    """The Dask client of --scheduler / --workers, or None."""
    if args.scheduler is None and args.workers is None:
        yield None
        return
    if args.scheduler is not None and args.workers is not None:
        raise ValueError("give --scheduler or --workers, not both")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ValueError('--scheduler and --workers need dask: pip install "weightinit[dask]"') from None
    if args.scheduler is not None:
        with Client(args.scheduler, timeout="30s") as client:
            yield client
        return
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            Client(c) as client:
        yield client


def _same_file(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def run(args) -> int:
    from weightinit.checkpoint import PRESETS, create_checkpoint, load_spec, preset
    from weightinit.checkpoint.writer import TargetExistsError

    if not args.output:
        raise ValueError("-o/--output must name a .safetensors file or a directory, got ''")
    target = args.spec
    if target is None:
        if args.config is None:
            raise ValueError("give SPEC_OR_PRESET, or --config with a Hugging Face config.json")
        cfg = _config_dict(args.config, _overrides(args.set))
        try:
            from weightinit.checkpoint import from_config
            spec = from_config(cfg, dtype=args.dtype)
        except ImportError as exc:
            if cfg.get("model_type") not in PRESETS:
                raise ValueError(f"--config model_type {cfg.get('model_type')!r}: {exc}") from None
            spec = preset(cfg["model_type"], args.config, **_overrides(args.set))
    elif os.path.isfile(target):
        if args.config or args.set:
            raise ValueError("--config and --set apply to configs and presets, not to spec files")
        spec = load_spec(target)
    elif target in PRESETS:
        spec = preset(target, args.config, **_overrides(args.set))
    else:
        raise ValueError(f"{target!r} is neither a spec file nor a preset ({', '.join(PRESETS)})")
    directory = not args.output.endswith((".safetensors", ".npy", ".json"))
    given_config = args.config if args.config is None or not os.path.isdir(args.config) \
        else os.path.join(args.config, "config.json")
    if directory and given_config and _same_file(given_config, os.path.join(args.output, "config.json")):
        spec.config = None                       # DIR/config.json is the config given: keep it as it is
        spec.files.pop("config.json", None)
    if args.tokenizer:
        if not directory:
            raise ValueError("--tokenizer needs a directory as --output")
        spec.files.update(tokenizer_files(args.tokenizer))
    with _cluster(args) as client:
        try:
            create_checkpoint(spec, args.output, seed=args.seed, dtype=args.dtype, threads=args.threads,
                              max_shard_size=args.max_shard_size, progress=not args.quiet, resume=args.resume,
                              format=args.format, overwrite=args.overwrite, client=client)
        except TargetExistsError as exc:   # the same refusal, in the command's words
            raise FileExistsError(f"{exc.target} already exists (pass --overwrite to replace it)") from None
    if directory and not args.quiet and not args.tokenizer:
        print("weightinit: no tokenizer was written (pass --tokenizer DIR to copy one)", file=sys.stderr)
    return 0
