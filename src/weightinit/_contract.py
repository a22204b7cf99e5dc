"""Which values each stream contract version changed, so that a checkpoint written
under an earlier version can still be verified when none of its tensors is among
them (docs/streams.md, "Contract version 3 changes")."""
from __future__ import annotations

import json

from ._sampling import CONTRACT_VERSION

__all__ = ["CONTRACT_VERSION", "changed_since"]

# standardized bound from which the float32 path samples a deep tail by its
# exponential form (csrc/fill_job.h WI_TN_EXP_ALPHA32) and width below which an
# interval is sampled as a truncated exponential (WI_TN_NARROW): untouched by version 3
_EXP_ALPHA32 = 96.0
_NARROW = 2.0 ** -30


def _v3_changes(dist: str, params: tuple, dtype: str) -> bool:
    """Version 3 inverts float32 outputs of one-sided truncated normals in float64."""
    if dist != "trunc_normal" or dtype != "float32":
        return False
    mean, std, a, b = params
    alpha, beta = (a - mean) / std, (b - mean) / std
    if alpha >= _EXP_ALPHA32 or beta <= -_EXP_ALPHA32 or (b - a) / std < _NARROW:
        return False
    return alpha >= 0 or beta <= 0


def changed_since(version: int, scheme, shape, dtype: str) -> bool:
    """Whether the values of `scheme` filling a tensor of `shape` and `dtype` under
    contract `version` (2 or later) differ from this version's; True when unsure."""
    from . import schemes as s
    from .recorded import leaves
    if version >= CONTRACT_VERSION:
        return False
    if version < 2:
        return True
    if isinstance(scheme, s.Recorded):
        return any(changed_since(version, s.from_dict(dict(leaf["scheme"])), tuple(leaf["shape"]), dtype)
                   for _, value in scheme.steps for leaf in leaves(json.loads(value)))
    if not getattr(scheme, "elementwise", False) or not hasattr(scheme, "plan"):
        return False    # orthogonal, eye, dirac, sparse: built from the normal stream, unchanged
    dist, params = scheme.plan(tuple(shape))
    return _v3_changes(dist, params, dtype)
