"""Householder kernel: orthogonal_, orthogonalize_, delta_orthogonal_.

Orthonormality bounds, max |Q^T Q - I| (Q with orthonormal columns):
  float64: 10 * sqrt(M) * eps64   (eps64 = 2**-52)
  float32: 10 * sqrt(M) * eps32   (eps32 = 2**-23)
  float16 / bfloat16: 2.2 * u + 1e-5, u = 2**-11 / 2**-8 the unit roundoff of
    the output: each entry is the float32 result rounded once, so every
    column moves by at most u relative, and by Cauchy-Schwarz each entry of
    Q^T Q moves by at most 2u + u^2 (plus the float32 error, below 1e-5).
Statistical tests use fixed seeds and alpha = 1e-3 (Bonferroni-corrected where
several are run together).
"""
import hashlib
import math

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import weightinit as wi
from weightinit import available_simd_paths

BF16 = np.dtype(ml_dtypes.bfloat16)
ALPHA = 1e-3


def as_matrix(a):
    """(Q, rows >= cols) with Q having orthonormal columns."""
    m = np.asarray(a, dtype=np.float64).reshape(a.shape[0], -1)
    return (m, True) if m.shape[0] >= m.shape[1] else (m.T, False)


def bound(dtype, M):
    dt = np.dtype(dtype)
    if dt == np.float64:
        return 10 * math.sqrt(M) * 2.0**-52
    if dt == np.float32:
        return 10 * math.sqrt(M) * 2.0**-23
    u = 2.0**-11 if dt == np.float16 else 2.0**-8
    return 2.2 * u + 1e-5


def ortho_err(a):
    q, _ = as_matrix(a)
    return np.abs(q.T @ q - np.eye(q.shape[1])).max()


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# ---- orthonormality -------------------------------------------------------

SHAPES = [(64, 64), (300, 200), (200, 300), (257, 131), (16, 4, 3, 3), (4, 8, 5), (1, 7), (7, 1)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, BF16], ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_orthonormal(shape, dtype):
    a = wi.orthogonal_(np.full(shape, np.nan, dtype=dtype), seed=3, stream="w")
    assert np.isfinite(a.astype(np.float64)).all()
    M = max(shape[0], math.prod(shape[1:]))
    err = ortho_err(a)
    assert err <= bound(dtype, M), f"max|Q^TQ - I| = {err:.3g} for {shape} {np.dtype(dtype)}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_orthonormal_several_blocks(dtype):
    # N > block size (128) with a ragged last block, both orientations
    for shape in [(700, 390), (390, 700)]:
        a = wi.orthogonal_(np.empty(shape, dtype), seed=11)
        assert ortho_err(a) <= bound(dtype, 700), f"{shape} {np.dtype(dtype)}: {ortho_err(a):.3g}"


@pytest.mark.slow
def test_orthonormal_large():
    a = wi.orthogonal_(np.empty((2048, 2048), np.float32), seed=1)
    assert ortho_err(a) <= bound(np.float32, 2048)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, BF16], ids=str)
def test_gain(dtype):
    g = -2.5
    a = wi.orthogonal_(np.empty((50, 30), dtype), seed=4)
    b = wi.orthogonal_(np.empty((50, 30), dtype), gain=g, seed=4)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    eps = {np.dtype(np.float64): 2.0**-53, np.dtype(np.float32): 2.0**-24}.get(np.dtype(dtype), 2.0**-8)
    assert np.allclose(b64, g * a64, rtol=2.1 * eps, atol=0), "gain * Q differs from Q scaled"
    bb = b64.T @ b64
    assert np.abs(bb - g * g * np.eye(30)).max() <= g * g * bound(dtype, 50)


def test_gain_zero_gives_zeros():
    a = wi.orthogonal_(np.full((9, 4), 5.0), gain=0.0, seed=1)
    assert not a.any()


# ---- exact construction ---------------------------------------------------

def reference_haar(M, N, seed, stream):
    """Stewart's construction in numpy float64 from the documented samples."""
    g = wi.normal_(np.empty(M * N), seed=seed, stream=stream)  # flat index j*M + i
    Q = np.zeros((M, N))
    Q[:N, :N] = np.eye(N)
    signs = np.empty(N)
    vs = []
    for j in range(N):
        x = g[j * M + j:(j + 1) * M].copy()
        alpha, xn = x[0], np.linalg.norm(x[1:])
        if xn == 0:
            vs.append((np.zeros_like(x), 0.0))
            signs[j] = 1.0 if alpha >= 0 else -1.0
            continue
        beta = -math.copysign(math.hypot(alpha, xn), alpha)
        v = x / (alpha - beta)
        v[0] = 1.0
        vs.append((v, (beta - alpha) / beta))
        signs[j] = 1.0 if beta >= 0 else -1.0
    for j in reversed(range(N)):
        v, tau = vs[j]
        Q[j:] -= tau * np.outer(v, v @ Q[j:])
    return Q * signs


@pytest.mark.parametrize("shape", [(9, 9), (200, 150), (150, 200), (31, 1)], ids=str)
def test_matches_reference_construction(shape):
    M, N = max(shape), min(shape)
    a = wi.orthogonal_(np.empty(shape), seed=77, stream="ref")
    q, _ = as_matrix(a)
    ref = reference_haar(M, N, 77, "ref")
    assert np.abs(q - ref).max() < 1e-12


def test_wide_is_transpose_of_tall_and_flattening():
    t = wi.orthogonal_(np.empty((90, 40), np.float32), seed=5, stream=2)
    w = wi.orthogonal_(np.empty((40, 90), np.float32), seed=5, stream=2)
    assert sha(t.T) == sha(w)
    f = wi.orthogonal_(np.empty((40, 9, 10), np.float32), seed=5, stream=2)
    assert sha(f) == sha(w)


def test_seed_and_stream():
    a = wi.orthogonal_(np.empty((20, 10)), seed=1, stream="a")
    assert sha(a) == sha(wi.orthogonal_(np.empty((20, 10)), seed=1, stream="a"))
    assert sha(a) != sha(wi.orthogonal_(np.empty((20, 10)), seed=1, stream="b"))
    assert sha(a) != sha(wi.orthogonal_(np.empty((20, 10)), seed=2, stream="a"))
    b = wi.orthogonal_(np.empty((20, 10)))
    c = wi.orthogonal_(np.empty((20, 10)))
    assert sha(b) != sha(c), "seed=None must draw fresh entropy"


def test_empty_and_singleton():
    assert wi.orthogonal_(np.empty((0, 5)), seed=1).shape == (0, 5)
    assert wi.orthogonal_(np.empty((3, 0, 2)), seed=1).shape == (3, 0, 2)
    one = wi.orthogonal_(np.empty((1, 1)), gain=3.0, seed=1)
    assert abs(one[0, 0]) == 3.0


# ---- Haar distribution ----------------------------------------------------

def samples(n, K, shape=None, dtype=np.float64):
    shape = shape or (n, n)
    return np.stack([wi.orthogonal_(np.empty(shape, dtype), seed=2024, stream=s) for s in range(K)])


def test_entry_law_small_n():
    # Q_ij of Haar O(n) (or of the Stiefel M x N): (q + 1) / 2 ~ Beta((M-1)/2, (M-1)/2)
    Q = samples(4, 3000)
    law = stats.beta((4 - 1) / 2, (4 - 1) / 2, loc=-1, scale=2)
    for i, j in [(0, 0), (3, 3), (1, 2)]:
        p = stats.kstest(Q[:, i, j], law.cdf).pvalue
        assert p > ALPHA / 4, f"KS of Q[{i},{j}] vs exact law: p = {p:.2g}"
    R = samples(0, 3000, shape=(6, 3))
    law6 = stats.beta(5 / 2, 5 / 2, loc=-1, scale=2)
    p = stats.kstest(R[:, 5, 2], law6.cdf).pvalue
    assert p > ALPHA / 4, f"KS of tall Q[5,2] vs exact law: p = {p:.2g}"


def test_scaled_entries_large_n():
    # sqrt(n) q over the entries of Haar O(n), n = 128, vs the exact law and N(0,1)
    n = 128
    Q = samples(n, 4, dtype=np.float32)
    x = Q[:, ::7, ::5].ravel().astype(np.float64)  # a spread-out subset, weakly dependent
    law = stats.beta((n - 1) / 2, (n - 1) / 2, loc=-1, scale=2)
    p = stats.kstest(x, law.cdf).pvalue
    assert p > ALPHA / 2, f"KS of entries vs exact law: p = {p:.2g}"
    z = math.sqrt(n) * x
    assert abs(z.mean()) < 4 / math.sqrt(z.size), f"mean of sqrt(n) q = {z.mean():.3g}"
    assert abs(z.var() - 1) < 0.05, f"var of sqrt(n) q = {z.var():.3g}"


def test_trace_distribution():
    # tr Q for Haar O(n): mean 0, variance 1 (n >= 2); close to N(0,1) for n = 10
    Q = samples(10, 3000)
    t = np.trace(Q, axis1=1, axis2=2)
    K = t.size
    assert abs(t.mean()) < 4 / math.sqrt(K), f"mean trace {t.mean():.3g}"
    # var of the sample variance of N(0,1) ~ 2/K
    assert abs(t.var() - 1) < 4 * math.sqrt(2 / K), f"trace variance {t.var():.3g}"
    p = stats.kstest(t, stats.norm.cdf).pvalue
    assert p > ALPHA, f"KS of trace vs N(0,1): p = {p:.2g}"


def test_column_sign_balance():
    # every diagonal entry is positive with probability 1/2 (the Householder
    # product without the sign matrix D fails this)
    n, K = 6, 2000
    Q = samples(n, K)
    for j in range(n):
        k = int((Q[:, j, j] > 0).sum())
        p = stats.binomtest(k, K, 0.5).pvalue
        assert p > ALPHA / n, f"column {j}: {k}/{K} positive diagonal entries, p = {p:.2g}"
    det = np.linalg.det(Q)
    k = int((det > 0).sum())
    assert stats.binomtest(k, K, 0.5).pvalue > ALPHA, f"{k}/{K} with det +1"


# ---- bit identity ---------------------------------------------------------

CASES = [((700, 300), np.float32), ((300, 700), np.float64), ((260, 260), np.float32), ((150, 140), BF16)]


@pytest.mark.parametrize("shape,dtype", CASES, ids=str)
def test_bits_independent_of_threads(shape, dtype):
    ref = sha(wi.orthogonal_(np.empty(shape, dtype), seed=9, threads=1))
    for t in (2, 3, 5):
        assert sha(wi.orthogonal_(np.empty(shape, dtype), seed=9, threads=t)) == ref, f"threads={t}"
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    r1 = sha(wi.orthogonalize_(a.copy(), threads=1))
    for t in (2, 3):
        assert sha(wi.orthogonalize_(a.copy(), threads=t)) == r1, f"orthogonalize_ threads={t}"


@pytest.mark.parametrize("shape,dtype", [((300, 200), np.float32), ((140, 260), np.float64), ((130, 129), np.float16)], ids=str)
def test_bits_independent_of_simd_path(shape, dtype, monkeypatch):
    paths = available_simd_paths()
    assert "scalar" in paths
    a = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    got = {}
    for p in paths:
        monkeypatch.setenv("WEIGHTINIT_SIMD", p)
        assert wi.simd_path() == p
        got[p] = (sha(wi.orthogonal_(np.empty(shape, dtype), seed=21, threads=2)),
                  sha(wi.orthogonalize_(a.copy(), threads=2)))
    assert len(set(got.values())) == 1, f"results differ between SIMD paths: {got}"


GOLDEN = [
    ((130, 70), np.float64, 123, "w", "3952443b1f74e289764e4999dddaff3e26240d7d90bfdc75731044ad29880ec1"),
    ((70, 130), np.float32, 7, 0, "652c35421011e8d7cdc0f683dcabfae69cfb22a266de5776e7d9101b923296be"),
    ((40, 40), BF16, 5, 3, "ea0390b6abcc64aeefc1efb2f951d7f86e736c5b821037d2050eb83de771bce9"),
    ((100, 50), np.float16, 11, "x", "e2db012433c354e8ae575c400b08a5046f52095afe84967bb32fc698265c8819"),
    ((300, 260), np.float32, 1, "big", "42e7e324a2928a4464a07d6c989eff4a5b48ed8af6117a8d165a18c4478b0a5c"),
    # contract version 2 (docs/streams.md): the reflector norm's hypot is our own, correctly
    # rounded; glibc's differed in one of its 200 reflectors here (version 1: 39a2cd5730b658d6...)
    ((300, 200), np.float64, 3, "v2", "7268b093be614ffd3600b2a361e8a159a3a5df5a670246d6bf4e2f2741041306"),
]


@pytest.mark.parametrize("shape,dtype,seed,stream,digest", GOLDEN, ids=lambda x: str(x)[:12])
def test_golden_hashes(shape, dtype, seed, stream, digest):
    """Frozen results: a change here changes every user's weights (version bump)."""
    assert sha(wi.orthogonal_(np.empty(shape, dtype), seed=seed, stream=stream)) == digest


# ---- orthogonalize_ -------------------------------------------------------

def numpy_canonical_q(a):
    m = a.astype(np.float64).reshape(a.shape[0], -1)
    wide = m.shape[0] < m.shape[1]
    x = m.T if wide else m
    q, r = np.linalg.qr(x)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return q.T if wide else q


@pytest.mark.parametrize("shape", [(50, 50), (300, 170), (170, 300), (12, 3, 2, 2), (400, 1)], ids=str)
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-11), (np.float32, 2e-4)], ids=["f64", "f32"])
def test_orthogonalize_canonical(shape, dtype, tol):
    a = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    ref = numpy_canonical_q(a)
    q = wi.orthogonalize_(a.copy())
    got = q.astype(np.float64).reshape(ref.shape)
    assert np.abs(got - ref).max() < tol, f"differs from numpy QR with sign fix by {np.abs(got - ref).max():.3g}"
    assert ortho_err(q) <= bound(dtype, max(ref.shape))
    # diag(R) = diag(Q^T a) > 0
    m = a.astype(np.float64).reshape(ref.shape)
    qq, tall = as_matrix(got)
    rdiag = np.diag(qq.T @ (m if tall else m.T))
    assert (rdiag > 0).all()


@pytest.mark.parametrize("dtype", [np.float16, BF16], ids=str)
def test_orthogonalize_16bit(dtype):
    a = np.random.default_rng(6).standard_normal((60, 40)).astype(dtype)
    ref = numpy_canonical_q(a)
    q = wi.orthogonalize_(a.copy())
    u = 2.0**-11 if np.dtype(dtype) == np.float16 else 2.0**-8
    assert np.abs(q.astype(np.float64) - ref).max() < 2 * u + 1e-4
    assert ortho_err(q) <= bound(dtype, 60)


def test_orthogonalize_keeps_orthonormal_input():
    # a matrix with orthonormal columns is its own canonical Q (R = I), whatever its signs
    q = wi.orthogonal_(np.empty((80, 30)), seed=2)
    q[:, 3] *= -1
    r = wi.orthogonalize_(q.copy())
    assert np.abs(r - q).max() < 1e-13


def test_orthogonalize_rank_deficient_stays_orthonormal():
    a = np.zeros((20, 5))
    a[:, 0] = 1.0
    a[:, 2] = 2.0
    q = wi.orthogonalize_(a)
    assert ortho_err(q) < 1e-14


# ---- delta_orthogonal_ ----------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 4, 3, 3), (6, 6, 5), (5, 2, 3, 4, 3), (4, 4, 2, 2)], ids=str)
def test_delta_orthogonal(shape):
    w = wi.delta_orthogonal_(np.full(shape, np.nan, np.float32), gain=1.5, seed=8, stream="conv")
    centre = tuple(k // 2 for k in shape[2:])
    q = w[(slice(None), slice(None)) + centre]
    ref = wi.orthogonal_(np.empty(shape[:2], np.float32), gain=1.5, seed=8, stream="conv")
    assert sha(q) == sha(ref)
    mask = np.ones(shape, bool)
    mask[(slice(None), slice(None)) + centre] = False
    assert not w[mask].any(), "off-centre entries must be zero"
    q64 = q.astype(np.float64)
    assert np.abs(q64.T @ q64 - 2.25 * np.eye(shape[1])).max() <= 2.25 * bound(np.float32, shape[0])


def test_delta_orthogonal_errors():
    w = np.full((2, 4, 3, 3), 7.0)
    with pytest.raises(ValueError, match="in_channels"):
        wi.delta_orthogonal_(w, seed=1)
    with pytest.raises(ValueError, match="out"):
        wi.delta_orthogonal_(np.full((4, 4), 7.0), seed=1)
    assert (w == 7.0).all()


# ---- bad input ------------------------------------------------------------

def test_bad_input_writes_nothing():
    one_d = np.full(5, 7.0)
    with pytest.raises(ValueError, match="out.*2 dimensions"):
        wi.orthogonal_(one_d, seed=1)
    with pytest.raises(ValueError, match="a.*2 dimensions"):
        wi.orthogonalize_(one_d)
    assert (one_d == 7.0).all()
    with pytest.raises(TypeError, match="out.*dtype"):
        wi.orthogonal_(np.zeros((4, 4), np.int32), seed=1)
    with pytest.raises(TypeError, match="out.*dtype"):   # complex64/128 are unitary: test_orthogonal_complex.py
        wi.orthogonal_(np.zeros((4, 4), np.complex256), seed=1)
    with pytest.raises(TypeError, match="out"):
        wi.orthogonal_([[1.0, 0.0], [0.0, 1.0]], seed=1)
    ro = np.full((4, 4), 7.0)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        wi.orthogonal_(ro, seed=1)
    with pytest.raises(ValueError, match="read-only"):
        wi.orthogonalize_(ro)
    base = np.full((8, 8), 7.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        wi.orthogonal_(base[:, ::2], seed=1)
    with pytest.raises(ValueError, match="C-contiguous"):
        wi.orthogonal_(base.T, seed=1)
    with pytest.raises(ValueError, match="C-contiguous"):
        wi.orthogonalize_(base[::2])
    assert (base == 7.0).all()
    a = np.full((4, 3), 7.0)
    with pytest.raises(ValueError, match="gain"):
        wi.orthogonal_(a, gain=float("nan"), seed=1)
    with pytest.raises(TypeError, match="gain"):
        wi.orthogonal_(a, gain="1", seed=1)
    with pytest.raises(ValueError, match="seed"):
        wi.orthogonal_(a, seed=-1)
    with pytest.raises(TypeError, match="threads"):
        wi.orthogonal_(a, seed=1, threads=1.5)
    with pytest.raises(ValueError, match="threads"):
        wi.orthogonal_(a, seed=1, threads=0)
    with pytest.raises(TypeError, match="stream"):
        wi.orthogonal_(a, seed=1, stream=1.0)
    assert (a == 7.0).all()
    bad = np.ones((4, 3))
    bad[1, 1] = np.inf
    keep = bad.copy()
    with pytest.raises(ValueError, match="finite"):
        wi.orthogonalize_(bad)
    assert np.array_equal(bad, keep)


def test_threads_env(monkeypatch):
    monkeypatch.setenv("WEIGHTINIT_NUM_THREADS", "2")
    a = wi.orthogonal_(np.empty((300, 200), np.float32), seed=4)
    monkeypatch.setenv("WEIGHTINIT_NUM_THREADS", "1")
    assert sha(wi.orthogonal_(np.empty((300, 200), np.float32), seed=4)) == sha(a)
