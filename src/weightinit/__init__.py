"""weightinit: fast, exact, reproducible neural-network weight initialization.

The value at each flat index of a tensor is a pure function of (seed, stream,
index, distribution, parameters, dtype): see docs/streams.md.
"""
from ._sampling import constant_, normal_, ones_, philox4x32, trunc_normal_, uniform_, zeros_
from ._simd import available_simd_paths, simd_path
from .orthogonal import delta_orthogonal_, orthogonal_, orthogonalize_

__version__ = "0.1.0"

__all__ = [
    "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_",
    "orthogonal_", "orthogonalize_", "delta_orthogonal_",
    "philox4x32", "simd_path", "available_simd_paths", "__version__",
]
