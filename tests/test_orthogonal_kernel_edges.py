"""The Householder product kernels give the same bits on every SIMD path where
their tiling has edges.

Each path tiles the products differently (register tiles of 4 x 8 / 4 x 4 on the
scalar path, 6 x 16 / 6 x 8 on AVX2, 12 x 32 / 12 x 16 on AVX-512; A read in
place or packed; partial tiles at the borders), while the summation order is
fixed (chunks of 256 along k). The shapes below are chosen so that every product
has partial tiles in both directions and a partial last chunk of k: M and N are
not multiples of 4, 6, 8, 12, 16 or 32, N is not a multiple of the block of
128 reflectors, and M - 128 b crosses 256 for several blocks b. Wide shapes
(rows < cols) take the kernels' column-major-output path.
"""
import hashlib

import numpy as np
import pytest

import weightinit as wi
from weightinit import available_simd_paths

SHAPES = [(517, 389), (389, 517), (301, 131), (263, 7)]


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def by_path(monkeypatch, fn):
    got = {}
    for p in available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", p)
        assert wi.simd_path() == p
        got[p] = fn()
    return got


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_orthogonal_same_bits_on_every_path(shape, dtype, threads, monkeypatch):
    got = by_path(monkeypatch, lambda: sha(wi.orthogonal_(np.empty(shape, dtype), seed=5, threads=threads)))
    assert len(set(got.values())) == 1, f"orthogonal_ {shape} {np.dtype(dtype)} threads={threads}: {got}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=str)
@pytest.mark.parametrize("shape", SHAPES[:2], ids=str)
def test_orthogonalize_same_bits_on_every_path(shape, dtype, monkeypatch):
    a = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    got = by_path(monkeypatch, lambda: sha(wi.orthogonalize_(a.copy(), threads=2)))
    assert len(set(got.values())) == 1, f"orthogonalize_ {shape} {np.dtype(dtype)}: {got}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=str)
def test_edge_shape_is_orthonormal(dtype):
    """The edge tiles compute the right numbers, not only the same ones."""
    q = wi.orthogonal_(np.empty((517, 389), dtype), seed=5).astype(np.float64)
    err = np.abs(q.T @ q - np.eye(389)).max()
    tol = 10 * np.sqrt(517) * np.finfo(dtype).eps
    assert err < tol, f"max |Q^T Q - I| = {err:.3g} >= {tol:.3g}"
