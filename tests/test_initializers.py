import math
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import weightinit as wi
from weightinit import initializers as I

ALPHA = 1e-3
BF16 = ml_dtypes.bfloat16
DTYPES = [np.float64, np.float32, np.float16, BF16]
TN_STD = stats.truncnorm.std(-2, 2)


def ks(x, dist, args, what):
    x = np.asarray(x, np.float64).ravel()
    res = stats.kstest(x, dist, args=args)
    assert res.pvalue > ALPHA, f"{what}: KS statistic {res.statistic:.4g}, p={res.pvalue:.3g} vs {dist}{args}"


def empty(shape, dtype=np.float32):
    return np.full(shape, np.nan, dtype)


# (shape, layout) -> expected (fan_in, fan_out)
SHAPES = [
    ((200, 100), "torch", 100, 200),
    ((32, 16, 3, 3), "torch", 144, 288),
    ((3, 3, 16, 32), "jax", 144, 288),
    ((5, 40, 60), "keras", 200, 300),
]


@pytest.mark.parametrize("shape, layout, fan_in, fan_out", SHAPES)
def test_xavier_uniform_distribution(shape, layout, fan_in, fan_out):
    w = I.xavier_uniform_(empty(shape), gain=1.5, layout=layout, seed=11)
    b = 1.5 * math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w).max() < b
    ks(w, "uniform", (-b, 2 * b), f"xavier_uniform_ {shape} {layout}")


@pytest.mark.parametrize("shape, layout, fan_in, fan_out", SHAPES)
def test_xavier_normal_distribution(shape, layout, fan_in, fan_out):
    w = I.xavier_normal_(empty(shape), gain=0.5, layout=layout, seed=12)
    ks(w, "norm", (0, 0.5 * math.sqrt(2 / (fan_in + fan_out))), f"xavier_normal_ {shape} {layout}")


@pytest.mark.parametrize("shape, layout, fan_in, fan_out", SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("a, nonlinearity", [(0, "relu"), (0.2, "leaky_relu"), (0, "tanh")])
def test_kaiming_distributions(shape, layout, fan_in, fan_out, mode, a, nonlinearity):
    fan = fan_in if mode == "fan_in" else fan_out
    std = wi.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    u = I.kaiming_uniform_(empty(shape), a, mode, nonlinearity, layout=layout, seed=13)
    b = math.sqrt(3) * std
    assert np.abs(u).max() < b
    ks(u, "uniform", (-b, 2 * b), f"kaiming_uniform_ {shape} {layout} {mode} {nonlinearity}")
    n = I.kaiming_normal_(empty(shape), a, mode, nonlinearity, layout=layout, seed=14)
    ks(n, "norm", (0, std), f"kaiming_normal_ {shape} {layout} {mode} {nonlinearity}")


@pytest.mark.parametrize("shape, layout, fan_in, fan_out", SHAPES)
def test_lecun_and_selu(shape, layout, fan_in, fan_out):
    std = 1 / math.sqrt(fan_in)
    u = I.lecun_uniform_(empty(shape), layout=layout, seed=15)
    ks(u, "uniform", (-math.sqrt(3) * std, 2 * math.sqrt(3) * std), f"lecun_uniform_ {shape}")
    n = I.lecun_normal_(empty(shape), layout=layout, seed=16)
    ks(n / (std / TN_STD), "truncnorm", (-2, 2), f"lecun_normal_ {shape} (scaled to unit sigma)")
    s = I.selu_(empty(shape), layout=layout, seed=17)
    ks(s, "norm", (0, std), f"selu_ {shape}")


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg", "fan_geo_avg"])
@pytest.mark.parametrize("distribution", ["normal", "truncated_normal", "uniform"])
def test_variance_scaling(mode, distribution):
    shape, fan_in, fan_out = (3, 3, 20, 40), 180, 360
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
         "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
    std = math.sqrt(2.0 / n)
    w = I.variance_scaling_(empty(shape, np.float64), 2.0, mode, distribution, layout="jax", seed=18)
    what = f"variance_scaling_ {mode} {distribution}"
    if distribution == "normal":
        ks(w, "norm", (0, std), what)
    elif distribution == "uniform":
        ks(w, "uniform", (-math.sqrt(3) * std, 2 * math.sqrt(3) * std), what)
    else:
        sigma = std / TN_STD
        assert np.abs(w).max() <= 2 * sigma
        ks(w / sigma, "truncnorm", (-2, 2), what)
    # the final std is the intended one (sample std within 5 standard errors)
    assert abs(w.std() / std - 1) < 5 / math.sqrt(2 * w.size), f"{what}: std {w.std()} vs {std}"


def test_truncated_normal_constant_is_the_std_of_the_truncated_standard_normal():
    assert wi.schemes.TRUNCATED_NORMAL_STD == pytest.approx(TN_STD, rel=1e-15)


def test_variance_scaling_batch_axis():
    w = I.variance_scaling_(empty((8, 50, 30)), 1.0, "fan_in", "uniform", layout="jax",
                            batch_axis=0, seed=19)
    b = math.sqrt(3 / 50)
    ks(w, "uniform", (-b, 2 * b), "variance_scaling_ batch_axis=0")


@pytest.mark.parametrize("dtype", DTYPES)
def test_low_precision_dtypes(dtype):
    w = I.kaiming_normal_(empty((300, 200), dtype), nonlinearity="relu", seed=20)
    assert w.dtype == np.dtype(dtype)
    ks(w, "norm", (0, math.sqrt(2 / 200)), f"kaiming_normal_ in {np.dtype(dtype)}")
    u = I.xavier_uniform_(empty((300, 200), dtype), seed=21)
    assert np.abs(u.astype(np.float64)).max() < math.sqrt(6 / 500)


@pytest.mark.parametrize("fn", [I.xavier_uniform_, I.kaiming_normal_, I.lecun_normal_, I.sparse_])
def test_same_seed_same_bits_and_streams_differ(fn):
    args = (0.5,) if fn is I.sparse_ else ()
    a = fn(empty((64, 48)), *args, seed=7, stream="w")
    b = fn(empty((64, 48)), *args, seed=7, stream="w", threads=1)
    c = fn(empty((64, 48)), *args, seed=7, stream="v")
    d = fn(empty((64, 48)), *args, seed=8, stream="w")
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c) and not np.array_equal(a, d)


def test_thread_count_does_not_change_values():
    a = I.kaiming_uniform_(empty((1024, 1024)), seed=3, threads=1)
    b = I.kaiming_uniform_(empty((1024, 1024)), seed=3, threads=2)
    assert a.tobytes() == b.tobytes()


def test_aliases():
    assert I.glorot_uniform_ is I.xavier_uniform_ and I.glorot_normal_ is I.xavier_normal_
    assert I.he_uniform_ is I.kaiming_uniform_ and I.he_normal_ is I.kaiming_normal_
    assert wi.he_normal_ is I.kaiming_normal_


def test_returns_the_array_itself():
    w = empty((4, 5))
    assert I.xavier_uniform_(w, seed=0) is w
    assert I.eye_(w) is w


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_eye(shape):
    np.testing.assert_array_equal(I.eye_(empty(shape)), np.eye(*shape))


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 2, 3, 5), 1), ((6, 4, 3, 3), 2),
                                           ((4, 6, 3, 3, 3), 2), ((3, 2, 1, 1), 3)])
def test_dirac(shape, groups):
    w = I.dirac_(empty(shape), groups)
    expected = np.zeros(shape)
    per = shape[0] // groups
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(per, shape[1])):
            expected[(g * per + d, d) + centre] = 1
    np.testing.assert_array_equal(w, expected)


def test_dirac_is_an_identity_convolution():
    x = np.random.default_rng(0).standard_normal((4, 9, 9))
    w = I.dirac_(np.empty((4, 4, 3, 3)))
    y = np.zeros_like(x)
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    for o in range(4):  # direct 'same' cross-correlation
        for i in range(4):
            for dy in range(3):
                for dx in range(3):
                    y[o] += w[o, i, dy, dx] * xp[i, dy:dy + 9, dx:dx + 9]
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("shape", [(3,), (3, 4), (2, 3, 4, 5, 6, 7)])
def test_dirac_rejects_other_ranks(shape):
    w = np.zeros(shape)
    with pytest.raises(ValueError, match="3, 4 or 5 dimensions"):
        I.dirac_(w)
    assert not w.any()


def test_dirac_groups_must_divide_out_channels():
    with pytest.raises(ValueError, match="groups=4"):
        I.dirac_(np.zeros((6, 2, 3)), 4)


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.93, 1.0])
def test_sparse_zero_count_per_column(sparsity):
    w = I.sparse_(empty((50, 30)), sparsity, std=0.02, seed=5)
    k = math.ceil(sparsity * 50)
    # the normal draw is never exactly 0 in practice; zeros are the mask
    np.testing.assert_array_equal((w == 0).sum(axis=0), np.full(30, k))
    if k < 50:
        ks(w[w != 0], "norm", (0, 0.02), f"sparse_ nonzeros at sparsity {sparsity}")


def test_sparse_mask_is_reproducible_and_seeded():
    a = I.sparse_(empty((40, 40)), 0.5, seed=1, stream="s") == 0
    b = I.sparse_(empty((40, 40)), 0.5, seed=1, stream="s") == 0
    c = I.sparse_(empty((40, 40)), 0.5, seed=2, stream="s") == 0
    d = I.sparse_(empty((40, 40)), 0.5, seed=1, stream="t") == 0
    np.testing.assert_array_equal(a, b)
    assert (a != c).any() and (a != d).any()


def test_sparse_mask_positions_are_uniform():
    # each row is zeroed in a column with probability k/rows: chi-square over rows
    w = I.sparse_(empty((10, 4000)), 0.3, seed=6)
    counts = (w == 0).sum(axis=1)
    res = stats.chisquare(counts)
    assert res.pvalue > ALPHA, f"sparse_ zero counts per row {counts} not uniform (p={res.pvalue:.3g})"


def test_orthogonal_delegates_to_the_kernel():
    w = empty((20, 30), np.float64)
    I.orthogonal_(w, gain=2.0, seed=0)
    np.testing.assert_allclose(w @ w.T, 4 * np.eye(20), atol=1e-10)


@pytest.mark.parametrize("fn", [I.xavier_uniform_, I.xavier_normal_, I.kaiming_uniform_,
                                I.kaiming_normal_, I.lecun_uniform_, I.lecun_normal_, I.selu_,
                                I.variance_scaling_])
@pytest.mark.parametrize("shape", [(0, 5), (3, 0, 2), (0,)])
def test_zero_element_warns_and_writes_nothing(fn, shape):
    w = np.empty(shape, np.float32)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert fn(w, seed=0) is w


@pytest.mark.parametrize("fn", [I.xavier_uniform_, I.kaiming_normal_, I.lecun_uniform_,
                                I.variance_scaling_])
@pytest.mark.parametrize("shape", [(5,), ()])
def test_fewer_than_two_dims(fn, shape):
    w = np.zeros(shape)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        fn(w, seed=0)
    assert not w.any()


BAD = [
    (lambda w: I.kaiming_uniform_(w, mode="fan_avg"), ValueError, "mode.*fan_avg"),
    (lambda w: I.kaiming_normal_(w, nonlinearity="gelu"), ValueError, "nonlinearity 'gelu'"),
    (lambda w: I.kaiming_normal_(w, a=[1]), ValueError, "negative_slope"),
    (lambda w: I.xavier_uniform_(w, gain=-1.0), ValueError, "gain must be positive"),
    (lambda w: I.xavier_normal_(w, gain="2"), TypeError, "gain must be a real number"),
    (lambda w: I.xavier_uniform_(w, layout="tf"), ValueError, "layout.*'tf'"),
    (lambda w: I.variance_scaling_(w, 0.0), ValueError, "scale must be positive"),
    (lambda w: I.variance_scaling_(w, mode="fan_max"), ValueError, "mode.*fan_max"),
    (lambda w: I.variance_scaling_(w, distribution="cauchy"), ValueError, "distribution.*cauchy"),
    (lambda w: I.variance_scaling_(w, in_axis=1.5), TypeError, "in_axis"),
    (lambda w: I.sparse_(w, 1.5), ValueError, "sparsity must be in"),
    (lambda w: I.sparse_(w, 0.5, std=-1), ValueError, "^std must be non-negative"),
    (lambda w: I.dirac_(w, groups=0), ValueError, "groups"),
    (lambda w: I.xavier_uniform_(w, seed=-1), ValueError, "seed"),
    (lambda w: I.xavier_uniform_(w, seed=1.5), TypeError, "seed"),
    (lambda w: I.kaiming_uniform_(w, stream=[1]), TypeError, "stream"),
    (lambda w: I.sparse_(w, 0.5, seed="x"), TypeError, "seed"),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_bad_arguments_raise_and_write_nothing(call, exc, match):
    w = np.zeros((6, 4, 3), np.float32) if "dirac" in match or "groups" in match else np.zeros((6, 4), np.float32)
    with pytest.raises(exc, match=match):
        call(w)
    assert not w.any()


def test_bad_output_arrays():
    with pytest.raises(TypeError, match="dtype"):
        I.xavier_uniform_(np.zeros((4, 4), np.int32), seed=0)
    with pytest.raises(TypeError, match="numpy ndarray"):
        I.kaiming_uniform_([[0.0] * 4] * 4, seed=0)
    base = np.zeros((4, 8))
    with pytest.raises(ValueError, match="C-contiguous"):
        I.kaiming_uniform_(base[:, ::2], seed=0)
    assert not base.any()
    ro = np.zeros((4, 4))
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        I.eye_(ro)


def test_import_weightinit_does_not_import_torch():
    code = "import sys, weightinit, weightinit.schemes, weightinit.initializers; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_sparse_mask_follows_the_documented_rule_across_column_blocks():
    # rows=2, cols > 2**21: the mask is computed in two column blocks (offset=)
    from weightinit._streams import substream
    rows, cols = 2, (1 << 21) + 1000
    w = I.sparse_(np.empty((rows, cols), np.float32), 0.5, seed=3, stream="m")
    keys = wi.uniform_(np.empty((cols, rows)), seed=3, stream=substream("m", "sparse_mask"))
    expected_zero_row = np.argmin(keys, axis=1)
    np.testing.assert_array_equal(np.argmin(w != 0, axis=0), expected_zero_row)
    assert int((w == 0).sum()) == cols
