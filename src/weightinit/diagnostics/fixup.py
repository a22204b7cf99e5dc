"""Fixup (Zhang, Dauphin & Ma 2019, "Fixup initialization: residual learning without
normalization", arXiv:1901.09321), the weight part, on numpy arrays.

For a network of ``L`` residual branches of ``m`` layers each: initialize the
classifier (last fully-connected layer) and the last layer of every branch at zero,
initialize the other branch layers with He (or another scheme) and multiply them by
``L ** (-1 / (2m - 2))``. (Fixup also adds scalar biases before each layer and a scalar
multiplier per branch; those belong to the architecture, not to the initializer.)
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ._nn import check_int, resolve_scheme

__all__ = ["fixup_scale", "fixup", "FixupReport"]


def fixup_scale(num_branches, layers_per_branch):
    """``num_branches ** (-1 / (2 * layers_per_branch - 2))``, the factor applied to the
    inner layers of each residual branch (``layers_per_branch`` >= 2)."""
    L = check_int(num_branches, "num_branches")
    m = check_int(layers_per_branch, "layers_per_branch")
    if m < 2:
        raise ValueError(f"layers_per_branch must be >= 2 (Fixup's exponent -1/(2m-2) needs m >= 2), got {m}")
    return float(L) ** (-1.0 / (2 * m - 2))


@dataclasses.dataclass(frozen=True)
class FixupReport:
    scale: float
    num_branches: int
    layers_per_branch: int
    scaled: tuple   #: names of the layers initialized with the scheme and scaled
    zeroed: tuple   #: names of the layers set to zero


def branch_scale(layer_counts):
    """(layers per branch m, Fixup scale L^(-1/(2m-2))) for branches with the given
    numbers of weighted layers, which must be equal; shared by the numpy and
    torch entry points."""
    counts = set(layer_counts)
    if not counts:
        raise ValueError("branches must contain at least one residual branch")
    if len(counts) != 1:
        raise ValueError(f"every branch must have the same number of layers, got {sorted(counts)}")
    m = counts.pop()
    return m, fixup_scale(len(layer_counts), m)


def fixup(branches, classifier=None, *, scheme="he_normal", seed=0, classifier_bias=None):
    """Fixup on numpy weight arrays, in place.

    Parameters
    ----------
    branches : list of lists of numpy arrays
        ``branches[b][j]`` is the weight of layer j of residual branch b (torch layout,
        ``(fan_out, fan_in, *kernel)``); every branch has the same number m >= 2 of layers.
    classifier : numpy array, optional
        Weight of the final fully-connected layer: set to zero (and ``classifier_bias``).
    scheme : scheme spec
        Initializer of the inner branch layers before scaling (default He normal).
    seed : int
        Streams are ``"fixup.branch{b}.layer{j}"``.
    """
    branches = [list(b) for b in branches]
    m, s = branch_scale([len(b) for b in branches])
    sch = resolve_scheme(scheme, "scheme")
    for b, branch in enumerate(branches):
        for j, w in enumerate(branch):
            if not isinstance(w, np.ndarray):
                raise TypeError(f"branches[{b}][{j}] must be a numpy array, got {type(w).__name__}")
    for name, arr in (("classifier", classifier), ("classifier_bias", classifier_bias)):
        if arr is not None and not isinstance(arr, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(arr).__name__}")
    scaled, zeroed = [], []
    for b, branch in enumerate(branches):
        for j, w in enumerate(branch):
            name = f"branch{b}.layer{j}"
            if j == m - 1:
                w[...] = 0
                zeroed.append(name)
            else:
                sch.init_(w, seed=seed, stream=f"fixup.{name}")
                w *= s
                scaled.append(name)
    for name, arr in (("classifier", classifier), ("classifier_bias", classifier_bias)):
        if arr is not None:
            arr[...] = 0
            zeroed.append(name)
    return FixupReport(scale=s, num_branches=len(branches), layers_per_branch=m, scaled=tuple(scaled),
                       zeroed=tuple(zeroed))
