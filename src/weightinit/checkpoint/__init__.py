"""Checkpoint creation: random-weight checkpoints written straight to disk.

- :func:`create_checkpoint` writes safetensors (single file, or shards + index) or one
  .npy per tensor, chunk by chunk through memory maps, resumable, in bounded memory.
- :func:`load_spec` / :func:`parse_spec` read a spec (TOML / JSON / dict);
  :func:`from_config` builds one for any transformers model from its config, each tensor
  initialized by the model's own init code (needs torch and transformers);
  :func:`preset` builds one for ``gpt2`` or ``llama`` without them.
- :func:`inspect_checkpoint` reads a checkpoint back with per-tensor statistics;
  :func:`verify_checkpoint` proves it holds exactly its recorded initialization.
"""
from .from_model import from_config, load_config
from .presets import PRESETS, preset, preset_config
from .reader import inspect_checkpoint, read_checkpoint
from .spec import CheckpointSpec, TensorSpec, load_spec, parse_spec
from .verify import VerifyReport, verify_checkpoint
from .writer import CheckpointResult, create_checkpoint, parse_size

__all__ = [
    "create_checkpoint", "CheckpointResult", "CheckpointSpec", "TensorSpec", "load_spec", "parse_spec",
    "from_config", "load_config", "preset", "preset_config", "PRESETS", "inspect_checkpoint", "read_checkpoint", "parse_size",
    "verify_checkpoint", "VerifyReport",
]
