"""The resume sidecar: which chunks of a run are on disk, each with the xxh3-64
checksum of its bytes taken when it was written. Nothing in it is trusted: a sidecar
of the wrong shape means starting over, and every recorded chunk is checked against
its checksum before it is kept."""
from __future__ import annotations

import json
import re

import xxhash

__all__ = ["SIDECAR", "checksum", "encode", "decode"]

SIDECAR = ".progress.json"   # dot names: no spec file (spec.validate) can take them
VERSION = 2
_HEX = re.compile(r"^[0-9a-f]{16}$")


def checksum(buffer) -> str:
    """xxh3-64 of a chunk's bytes (about 15 GB/s: negligible next to the disk)."""
    return xxhash.xxh3_64_hexdigest(buffer)


def encode(plan_digest: str, seed: int, checksums: list) -> bytes:
    return json.dumps({"version": VERSION, "plan": plan_digest, "seed": seed, "checksums": checksums},
                      separators=(",", ":")).encode()


def decode(raw: bytes | None, num_chunks: int) -> dict | None:
    """The sidecar as {"plan", "seed", "checksums"}, or None when it is missing or
    malformed in any way (then the run starts over)."""
    if raw is None:
        return None
    try:
        state = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(state, dict) or state.get("version") != VERSION:
        return None
    plan, seed, sums = state.get("plan"), state.get("seed"), state.get("checksums")
    if not isinstance(plan, str) or not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**64:
        return None
    if not isinstance(sums, list) or len(sums) != num_chunks:
        return None
    if not all(s is None or (isinstance(s, str) and _HEX.match(s)) for s in sums):
        return None
    return {"plan": plan, "seed": seed, "checksums": sums}
