"""Complex outputs (complex64, complex128): a complex array of n elements is the
float32/float64 stream of its 2n parts (real part of element k at part 2k,
imaginary at 2k + 1). normal_ is circular (parts independent, each std^2/2),
uniform_ is per part (as torch), variance scaling follows JAX (circular normal,
disk, modulus-truncated normal), all with E|z|^2 = the scheme's variance."""
import hashlib
import math

import numpy as np
import pytest
from scipy import stats

import weightinit as wi
from weightinit import schemes
from weightinit._sampling import DISK_TRUNC_STD, _disk_, _disk_trunc_normal_

ALPHA = 1e-3
PARTS = {np.complex64: np.float32, np.complex128: np.float64}
CT = list(PARTS)
IDS = ["complex64", "complex128"]


def ks(x, cdf, what, args=()):
    res = stats.kstest(np.asarray(x, np.float64), cdf, args=args)
    assert res.pvalue > ALPHA, f"{what}: KS {res.statistic:.4g}, p={res.pvalue:.3g}"


def uncorrelated(x, y, what):
    n = len(x)
    r = np.corrcoef(np.asarray(x, np.float64), np.asarray(y, np.float64))[0, 1]
    bound = stats.norm.isf(ALPHA / 2) / math.sqrt(n)   # r ~ N(0, 1/n) under independence
    assert abs(r) < bound, f"{what}: correlation {r:.4g} beyond {bound:.3g}"


# ------------------------------------------------------------------ the stream: parts

@pytest.mark.parametrize("ct", CT, ids=IDS)
def test_normal_parts_are_the_real_stream_with_std_over_sqrt2(ct, monkeypatch):
    n, mean, std = 5001, 0.25 - 1.5j, 0.8
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        z = wi.normal_(np.empty(n, ct), mean, std, seed=7, stream="w", offset=333)
        sp = std / math.sqrt(2)
        re = wi.normal_(np.empty(2 * n, PARTS[ct]), mean.real, sp, seed=7, stream="w", offset=666)
        im = wi.normal_(np.empty(2 * n, PARTS[ct]), mean.imag, sp, seed=7, stream="w", offset=666)
        assert z.real.tobytes() == re[0::2].tobytes(), path
        assert z.imag.tobytes() == im[1::2].tobytes(), path


@pytest.mark.parametrize("ct", CT, ids=IDS)
def test_uniform_parts_are_the_real_stream(ct):
    z = wi.uniform_(np.empty((30, 41), ct), -1.0, 3.0, seed=2, offset=5)
    r = wi.uniform_(np.empty(2 * 30 * 41, PARTS[ct]), -1.0, 3.0, seed=2, offset=10)
    assert z.reshape(-1).view(PARTS[ct]).tobytes() == r.tobytes()


@pytest.mark.parametrize("ct", CT, ids=IDS)
@pytest.mark.parametrize("fill", ["normal", "uniform", "disk", "disk_trunc"])
def test_chunks_equal_the_whole(ct, fill):
    call = {
        "normal": lambda o, off: wi.normal_(o, 1 + 2j, 0.5, seed=3, offset=off),
        "uniform": lambda o, off: wi.uniform_(o, -2.0, 1.0, seed=3, offset=off),
        "disk": lambda o, off: _disk_(o, 1.5, seed=3, stream=0, offset=off, threads=2),
        "disk_trunc": lambda o, off: _disk_trunc_normal_(o, 0.3, seed=3, stream=0, offset=off, threads=2),
    }[fill]
    whole = call(np.empty(70_001, ct), 0)
    parts = np.concatenate([call(np.empty(1025, ct), 0), call(np.empty(70_001 - 1025, ct), 1025)])
    assert whole.tobytes() == parts.tobytes()


# ------------------------------------------------------------------ laws

@pytest.mark.parametrize("ct", CT, ids=IDS)
def test_normal_is_circular(ct):
    mean, std = 1.0 - 0.5j, 2.0
    z = wi.normal_(np.empty(200_000, ct), mean, std, seed=1)
    s = std / math.sqrt(2)
    ks(z.real, "norm", "real part", (mean.real, s))
    ks(z.imag, "norm", "imaginary part", (mean.imag, s))
    uncorrelated(z.real, z.imag, "real vs imaginary")


@pytest.mark.parametrize("ct", CT, ids=IDS)
def test_disk_is_uniform_on_the_disk(ct):
    R = 1.7
    z = _disk_(np.empty(200_000, ct), R, seed=4, stream="d", offset=0, threads=None).astype(np.complex128)
    ks(np.abs(z) ** 2 / R ** 2, "uniform", "|z|^2 / R^2")
    ks((np.angle(z) + np.pi) / (2 * np.pi), "uniform", "phase")
    assert np.abs(z).max() <= R * (1 + 1e-6)


@pytest.mark.parametrize("ct", CT, ids=IDS)
def test_disk_truncated_normal_law(ct):
    std = 0.3
    z = _disk_trunc_normal_(np.empty(200_000, ct), std, seed=5, stream="t", offset=0, threads=None).astype(np.complex128)
    scale = std / DISK_TRUNC_STD
    ks(np.abs(z) ** 2 / scale ** 2, stats.truncexpon(b=4.0).cdf, "|z|^2 / scale^2 ~ Exp(1) truncated at 4")
    ks((np.angle(z) + np.pi) / (2 * np.pi), "uniform", "phase")
    assert np.abs(z).max() <= 2 * scale * (1 + 1e-6)


def test_disk_truncated_normal_constant():
    # E|z|^2 of Exp(1) truncated at 4, by quadrature
    from scipy import integrate
    m = integrate.quad(lambda x: x * math.exp(-x), 0, 4)[0] / (1 - math.exp(-4))
    assert DISK_TRUNC_STD == pytest.approx(math.sqrt(m), rel=1e-14)


@pytest.mark.parametrize("ct", CT, ids=IDS)
@pytest.mark.parametrize("dist", ["normal", "uniform", "truncated_normal"])
def test_variance_scaling_has_the_variance_in_e_abs2(ct, dist):
    """E|z|^2 = scale / fan_in, by a z-test on the sample mean of |z|^2 (alpha 1e-3)."""
    shape = (400, 500)
    s = schemes.get("variance_scaling", scale=2.0, mode="fan_in", distribution=dist)
    z = s.init_(np.empty(shape, ct), seed=6, stream=dist).astype(np.complex128).reshape(-1)
    a2 = np.abs(z) ** 2
    target = 2.0 / 500
    zstat = (a2.mean() - target) / (a2.std() / math.sqrt(a2.size))
    assert abs(zstat) < stats.norm.isf(ALPHA / 2), f"{dist}: E|z|^2 {a2.mean():.6g} vs {target:.6g} (z={zstat:.2f})"


@pytest.mark.parametrize("name", ["he_normal", "xavier_uniform", "lecun_normal", "glorot_uniform", "selu",
                                  "kaiming_uniform"])
def test_named_variance_scaling_initializers_fill_complex(name):
    z = schemes.get(name).init_(np.full((64, 32), 7 + 7j, np.complex64), seed=0)
    assert np.isfinite(z).all() and not np.any(z == 7 + 7j)


# ------------------------------------------------------------------ golden values

GOLDEN = {
    ("normal", "complex64"):
        "071b92179f5ea68adaf68a832cbb215a76134158992b484870c962bdccd47a53", ("normal", "complex128"):
        "3a95accffc4e0b642b27d15b67b1f8f68afb6e2e4bcfa10c35111fc3ea80f6ae",
    ("disk", "complex64"):
        "efe32688f0848842b71394b1cacb85e0f4d4883a020b21337647b0e9699efcf8", ("disk", "complex128"):
        "5ed7b1acd0ee5cbc68c2d46acd377b597519ac22c033679f32fc39d4f5b88bff",
    ("disk_trunc", "complex64"):
        "f3ff15fb4d72f25ab2e4729a14d7d279cdb7bb78a236eec585fc76dc4d3325fb", ("disk_trunc", "complex128"):
        "7d618f13d8074d360c001973f3ccfa9576a15796fa22ea836c2cb6c77f2fd386",
}
GCALLS = {
    "normal": lambda o: wi.normal_(o, 0.5 - 0.25j, 0.02, seed=20261129, stream="c", offset=9),
    "disk": lambda o: _disk_(o, 0.1, seed=20261129, stream="c", offset=9, threads=None),
    "disk_trunc": lambda o: _disk_trunc_normal_(o, 0.1, seed=20261129, stream="c", offset=9, threads=None),
}


@pytest.mark.parametrize("fill,name", sorted(GOLDEN))
def test_golden(fill, name, monkeypatch):
    ct = np.dtype(name).type
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        h = hashlib.sha256(GCALLS[fill](np.empty(2001, ct)).tobytes()).hexdigest()
        assert h == GOLDEN[fill, name], path


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("call,exc,msg", [
    (lambda o: wi.normal_(o, complex(0, math.nan)), ValueError, "mean.imag"),
    (lambda o: wi.normal_(o, 0.0, -1.0), ValueError, "std"),
    (lambda o: wi.normal_(o, 0.0, 1e39), ValueError, "std"),
    (lambda o: wi.normal_(o, 1e39j), ValueError, "mean"),
    (lambda o: wi.uniform_(o, 1 + 1j, 2.0), TypeError, "low"),
    (lambda o: wi.trunc_normal_(o), TypeError, "complex"),
    (lambda o: wi.constant_(o, "x"), TypeError, "value"),
    (lambda o: wi.normal_(o, offset=2**63), ValueError, "offset"),
])
def test_bad_input_writes_nothing(call, exc, msg):
    out = np.full(64, 3 + 4j, np.complex64)
    with pytest.raises(exc, match=msg):
        call(out)
    assert np.all(out == 3 + 4j)


@pytest.mark.parametrize("ct", CT, ids=IDS)
def test_eye_dirac_sparse(ct):
    assert np.array_equal(wi.eye_(np.full((3, 5), 7j, ct)), np.eye(3, 5))
    w = wi.dirac_(np.full((4, 2, 3), 7j, ct), groups=2)
    expect = np.zeros((4, 2, 3))
    expect[0, 0, 1] = expect[1, 1, 1] = expect[2, 0, 1] = expect[3, 1, 1] = 1
    assert np.array_equal(w, expect)
    z = wi.sparse_(np.empty((400, 300), ct), 0.25, std=2.0, seed=1)
    assert np.all((z == 0).sum(axis=0) == 100)
    nz = z[z != 0]
    ks(nz.real, "norm", "sparse_ real parts", (0, math.sqrt(2)))
    ks(nz.imag, "norm", "sparse_ imaginary parts", (0, math.sqrt(2)))


def test_constant():
    assert np.all(wi.constant_(np.zeros(5, np.complex64), 1 - 2j) == 1 - 2j)
    assert np.all(wi.ones_(np.zeros(5, np.complex128)) == 1)


def test_non_contiguous_complex_is_refused():
    out = np.zeros((8, 8), np.complex64)[:, ::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        wi.normal_(out, seed=0)


# ------------------------------------------------------------------ torch

def test_torch_complex_follows_torch():
    torch = pytest.importorskip("torch")
    import weightinit.torch as init
    g = lambda: torch.Generator().manual_seed(8)
    t = init.normal_(torch.empty(300, 200, dtype=torch.complex64), 1.0, 2.0, generator=g())
    seed = init.seed_from_generator(g())
    ref = wi.normal_(np.empty((300, 200), np.complex64), 1 + 1j, 2.0, seed=seed)   # torch: mean on both parts
    assert t.numpy().tobytes() == ref.tobytes() and t._version == 1
    t = init.xavier_uniform_(torch.empty(300, 200, dtype=torch.complex128), generator=g())
    b = schemes.xavier_uniform().plan((300, 200))[1][1]   # sqrt(6 / 500), as the scheme rounds it
    ref = wi.uniform_(np.empty((300, 200), np.complex128), -b, b, seed=seed)       # torch: per part
    assert t.numpy().tobytes() == ref.tobytes()
    t = init.kaiming_normal_(torch.empty(300, 200, dtype=torch.complex64), generator=g())
    ks(t.real.flatten().numpy(), "norm", "kaiming_normal_ real part", (0, math.sqrt(2 / 200) / math.sqrt(2)))
    with pytest.raises(TypeError, match="complex"):
        init.trunc_normal_(torch.empty(4, 4, dtype=torch.complex64))
    # the deterministic ones equal torch's own
    for fn, shape, args in [("eye_", (5, 7), ()), ("dirac_", (6, 2, 3, 3), (2,))]:
        ours = getattr(init, fn)(torch.full(shape, 3 + 1j, dtype=torch.complex64), *args)
        theirs = getattr(torch.nn.init, fn)(torch.full(shape, 3 + 1j, dtype=torch.complex64), *args)
        assert torch.equal(ours, theirs), fn
    t = init.sparse_(torch.empty(40, 30, dtype=torch.complex128), 0.25, std=2.0)
    assert ((t == 0).sum(0) == 10).all()


def test_init_module_refuses_complex_parameters_naming_them():
    torch = pytest.importorskip("torch")
    import weightinit.torch as init
    m = torch.nn.Linear(4, 3, dtype=torch.complex64)
    before = m.weight.detach().clone()
    with pytest.raises(TypeError, match="'weight'.*complex"):
        init.init_module_(m, seed=0)
    assert torch.equal(m.weight, before)
