"""orthogonal_ on complex64/complex128: Haar-distributed unitary matrices (complex
Householder path), checked by unitarity and by moments and marginals that the Haar
measure fixes exactly."""
import hashlib
import math

import numpy as np
import pytest
from scipy import stats

import weightinit as wi

ALPHA = 1e-3
CT = [np.complex64, np.complex128]
IDS = ["complex64", "complex128"]
TOL = {np.complex64: 5e-6, np.complex128: 1e-13}


@pytest.mark.parametrize("ct", CT, ids=IDS)
@pytest.mark.parametrize("shape", [(1, 1), (7, 7), (64, 24), (24, 64), (5, 3, 2, 2), (3, 40)])
def test_unitary(ct, shape):
    q = wi.orthogonal_(np.empty(shape, ct), gain=1.0, seed=1, stream="u").astype(np.complex128)
    m = q.reshape(shape[0], -1)
    g = m.conj().T @ m if m.shape[0] >= m.shape[1] else m @ m.conj().T
    err = np.abs(g - np.eye(len(g))).max()
    assert err < TOL[ct] * max(shape), f"{shape}: |Q^H Q - I| = {err:.3g}"
    assert np.abs(m.imag).max() > 0.01   # genuinely complex


def _zmean(x, expect, what):
    z = (x.mean() - expect) / (x.std() / math.sqrt(len(x)))
    assert abs(z) < stats.norm.isf(ALPHA / 2), f"{what}: mean {x.mean():.4g} vs {expect} (z = {z:.2f})"


def test_trace_moments_of_the_haar_measure():
    """For Haar U(n), E tr U = 0 and E|tr U|^(2k) = k! for k <= n (Diaconis and
    Shahshahani 1994). A Householder product without the phase correction D, or a
    QR without positive diag(R), fails this (E|tr U|^2 = 2.6 for numpy's QR)."""
    n, k = 8, 4000
    tr = np.array([np.trace(wi.orthogonal_(np.empty((n, n), np.complex128), seed=1, stream=i))
                   for i in range(k)])
    _zmean(tr.real, 0.0, "Re tr U")
    _zmean(tr.imag, 0.0, "Im tr U")
    a2 = np.abs(tr) ** 2
    _zmean(a2, 1.0, "|tr U|^2")
    _zmean(a2 ** 2, 2.0, "|tr U|^4")


@pytest.mark.parametrize("shape", [(6, 6), (9, 4)])
def test_entry_marginals(shape):
    """Every entry of a Haar column on C^M has |u|^2 ~ Beta(1, M-1) and a uniform phase."""
    m = shape[0]
    e = np.array([wi.orthogonal_(np.empty(shape, np.complex64), seed=2, stream=i)[m - 2, shape[1] - 1]
                  for i in range(3000)]).astype(np.complex128)
    for what, x, law in [("|u|^2", np.abs(e) ** 2, stats.beta(1, m - 1).cdf),
                         ("phase", (np.angle(e) + np.pi) / (2 * np.pi), "uniform")]:
        res = stats.kstest(x, law)
        assert res.pvalue > ALPHA, f"{shape} {what}: KS {res.statistic:.3g}, p={res.pvalue:.3g}"


@pytest.mark.parametrize("ct", CT, ids=IDS)
def test_threads_paths_and_gain(ct, monkeypatch):
    ref = wi.orthogonal_(np.empty((300, 200), ct), seed=3, stream="t", threads=1)
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        assert wi.orthogonal_(np.empty((300, 200), ct), seed=3, stream="t", threads=2).tobytes() == ref.tobytes()
    twice = wi.orthogonal_(np.empty((300, 200), ct), gain=2.0, seed=3, stream="t")
    assert np.array_equal(twice, 2 * ref)
    wide = wi.orthogonal_(np.empty((200, 300), ct), seed=3, stream="t")
    assert np.array_equal(wide, ref.T)           # rows < cols: the transpose of the tall matrix


GOLDEN = {
    "complex64": "feb5e96d42e3382d2b131b3fa555db418466af1d914a4c34a68b991c717a2df0",
    "complex128": "d2c39c7f6a295d90be8cd09752dd83b16b6bf64bf23a37b0c63ba8a5f5297198"}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(name):
    q = wi.orthogonal_(np.empty((33, 17), np.dtype(name)), gain=0.5, seed=20261129, stream="q")
    assert hashlib.sha256(q.tobytes()).hexdigest() == GOLDEN[name]


def test_golden_contract_version_2():
    """|x_j0| by our correctly rounded hypot (docs/streams.md, contract version 2): glibc's
    rounded one of these 200 reflectors differently (version 1: e787dbbfe0efb6b6...)."""
    q = wi.orthogonal_(np.empty((300, 200), np.complex128), seed=0, stream="v2")
    assert hashlib.sha256(q.tobytes()).hexdigest() == (
        "1f7df3eab26679782531c4eeaec196a74951f5c2b1b4425f70f0b1699130fef5")


def test_delta_orthogonal_complex():
    w = wi.delta_orthogonal_(np.empty((16, 8, 3, 3), np.complex64), seed=4, stream="c")
    q = wi.orthogonal_(np.empty((16, 8), np.complex64), seed=4, stream="c")
    assert np.array_equal(w[:, :, 1, 1], q)
    w[:, :, 1, 1] = 0
    assert not w.any()


@pytest.mark.parametrize("call,exc,msg", [
    (lambda o: wi.orthogonal_(o, gain=1j), TypeError, "gain"),
    (lambda o: wi.orthogonal_(o, gain=1e39), ValueError, "gain"),
    (lambda o: wi.orthogonal_(o.reshape(-1)), ValueError, "2 dimensions"),
])
def test_bad_input_writes_nothing(call, exc, msg):
    out = np.full((8, 8), 3 + 4j, np.complex64)
    with pytest.raises(exc, match=msg):
        call(out)
    assert np.all(out == 3 + 4j)


def test_torch_orthogonal_complex():
    torch = pytest.importorskip("torch")
    import weightinit.torch as init
    t = init.orthogonal_(torch.empty(20, 12, dtype=torch.complex128), generator=torch.Generator().manual_seed(5))
    seed = init.seed_from_generator(torch.Generator().manual_seed(5))
    assert np.array_equal(t.numpy(), wi.orthogonal_(np.empty((20, 12), np.complex128), seed=seed))
    assert t._version == 1


def _canonical_qr(a):
    """numpy's QR with its phases moved so that diag(R) is real and positive."""
    q, r = np.linalg.qr(a)
    d = np.diagonal(r)
    phase = np.where(d == 0, 1, d / np.where(d == 0, 1, np.abs(d)))
    return q * phase


@pytest.mark.parametrize("ct,tol", [(np.complex128, 1e-12), (np.complex64, 2e-5)])
@pytest.mark.parametrize("shape", [(7, 4), (4, 7), (6, 6), (40, 3, 3)])
def test_orthogonalize_complex_is_the_canonical_unitary_factor(ct, tol, shape):
    rng = np.random.default_rng(5)
    a = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(ct)
    m = a.reshape(shape[0], -1).astype(np.complex128)
    out = wi.orthogonalize_(a.copy())
    assert out.dtype == ct and out.shape == shape
    q = out.reshape(shape[0], -1).astype(np.complex128)
    if m.shape[0] >= m.shape[1]:
        np.testing.assert_allclose(q, _canonical_qr(m), atol=tol)
        r = q.conj().T @ m
    else:   # rows < cols: Q^T with a^T = QR, as orthogonal_ lays out wide matrices
        np.testing.assert_allclose(q, _canonical_qr(m.T).T, atol=tol)
        r = q.conj() @ m.T
    assert np.abs(np.tril(r, -1)).max() < 50 * tol * np.abs(m).max()
    assert np.abs(np.diagonal(r).imag).max() < 50 * tol * np.abs(m).max()
    assert np.diagonal(r).real.min() > 0


def test_orthogonalize_complex_threads_and_edge_cases():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((300, 200)) + 1j * rng.standard_normal((300, 200))
    one = wi.orthogonalize_(a.copy(), threads=1)
    assert one.tobytes() == wi.orthogonalize_(a.copy(), threads=2).tobytes()
    u = wi.orthogonal_(np.empty((50, 30), np.complex128), seed=1)
    np.testing.assert_allclose(wi.orthogonalize_(u.copy()), u, atol=1e-13)   # already canonical
    np.testing.assert_array_equal(wi.orthogonalize_(np.zeros((3, 3), np.complex64)), np.eye(3))  # as the real path
    bad = np.ones((3, 3), np.complex64)
    bad[1, 1] = complex(0, np.nan)
    with pytest.raises(ValueError, match="finite"):
        wi.orthogonalize_(bad)
    assert np.isnan(bad[1, 1].imag) and bad[0, 0] == 1
