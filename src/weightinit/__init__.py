"""weightinit: fast, exact, reproducible neural-network weight initialization.

The value at each flat index of a tensor is a pure function of (seed, stream,
index, distribution, parameters, dtype): see docs/streams.md.
"""
from ._version import __version__
from ._sampling import CONTRACT_VERSION as STREAM_CONTRACT_VERSION
from ._sampling import constant_, normal_, ones_, philox4x32, trunc_normal_, uniform_, zeros_
from ._simd import available_simd_paths, simd_path
from . import schemes
from .fans import calculate_gain, compute_fans
from .initializers import *  # noqa: F403 (named initializers, see initializers.__all__)
from .initializers import __all__ as _initializer_names
from .orthogonal import orthogonalize_
from .checkpoint import create_checkpoint
from .diagnostics.recommend import recommend


__all__ = [
    "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_", "ones_",
    "orthogonalize_",
    "STREAM_CONTRACT_VERSION", "philox4x32", "simd_path", "available_simd_paths", "recommend", "__version__",
    "schemes", "compute_fans", "calculate_gain", *_initializer_names, "create_checkpoint",
]
