import dataclasses
import json
import math

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

from weightinit import initializers as I
from weightinit import schemes

DTYPES = [np.float64, np.float32, np.float16, ml_dtypes.bfloat16]
ELEMENTWISE = ["variance_scaling", "xavier_uniform", "glorot_normal", "kaiming_uniform", "he_normal",
               "lecun_uniform", "lecun_normal", "selu", "uniform", "normal", "trunc_normal",
               "truncated_normal", "constant", "zeros", "ones"]
STRUCTURED = ["eye", "dirac", "sparse", "orthogonal", "delta_orthogonal"]

# initializer function -> (scheme name, positional args shared by both, shape)
PAIRS = [
    (I.xavier_uniform_, "xavier_uniform", dict(gain=2.0), (30, 20)),
    (I.xavier_normal_, "xavier_normal", dict(gain=0.5), (30, 20)),
    (I.glorot_uniform_, "glorot_uniform", {}, (4, 3, 5)),
    (I.kaiming_uniform_, "kaiming_uniform", dict(a=math.sqrt(5)), (30, 20)),
    (I.kaiming_normal_, "kaiming_normal", dict(mode="fan_out", nonlinearity="relu"), (8, 4, 3, 3)),
    (I.he_normal_, "he_normal", dict(layout="jax"), (3, 3, 4, 8)),
    (I.lecun_uniform_, "lecun_uniform", {}, (30, 20)),
    (I.lecun_normal_, "lecun_normal", {}, (30, 20)),
    (I.selu_, "selu", {}, (30, 20)),
    (I.variance_scaling_, "variance_scaling",
     dict(scale=2.0, mode="fan_geo_avg", distribution="uniform", layout="keras", batch_axis=0), (5, 6, 7)),
    (I.eye_, "eye", {}, (5, 7)),
    (I.dirac_, "dirac", dict(groups=2), (4, 3, 3)),
    (I.sparse_, "sparse", dict(sparsity=0.3, std=0.1), (30, 20)),
]


@pytest.mark.parametrize("fn, name, kwargs, shape", PAIRS, ids=[p[1] for p in PAIRS])
@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16])
def test_initializer_and_scheme_give_the_same_bits(fn, name, kwargs, shape, dtype):
    a = fn(np.empty(shape, dtype), **kwargs, seed=123, stream="layer.weight")
    b = schemes.get(name, **kwargs).init_(np.empty(shape, dtype), seed=123, stream="layer.weight")
    assert a.tobytes() == b.tobytes()


def test_sampling_functions_match_their_schemes():
    import weightinit as wi
    a = wi.trunc_normal_(np.empty(1000, np.float32), 0.5, 2.0, -1.0, 3.0, seed=4, stream=9)
    b = schemes.get("trunc_normal", mean=0.5, std=2.0, a=-1.0, b=3.0).init_(np.empty(1000, np.float32), seed=4, stream=9)
    assert a.tobytes() == b.tobytes()
    a = wi.normal_(np.empty(1000), 1.0, 0.1, seed=4)
    assert a.tobytes() == schemes.get("normal", mean=1.0, std=0.1).init_(np.empty(1000), seed=4).tobytes()
    a = wi.uniform_(np.empty(1000), -3, 5, seed=4)
    assert a.tobytes() == schemes.Uniform(-3, 5).init_(np.empty(1000), seed=4).tobytes()


def test_every_name_has_a_scheme_and_round_trips_through_json():
    assert set(ELEMENTWISE + STRUCTURED) <= set(schemes.available())
    needs = {"recorded": {"steps": [{"region": None, "value": {"scheme": {"name": "ones"}, "shape": [3],
                                                               "leaf": 0}}]}}
    for name in schemes.available():
        s = schemes.get(name, **needs.get(name, {}))
        assert isinstance(s, schemes.Scheme)
        d = json.loads(json.dumps(s.to_dict()))
        assert d["name"] in schemes.available()
        assert schemes.from_dict(d) == s, name
        assert hash(schemes.from_dict(d)) == hash(s)


def test_round_trip_keeps_non_default_parameters():
    s = schemes.VarianceScaling(0.5, "fan_avg", "uniform", "jax", in_axis=(0, 1), out_axis=-1, batch_axis=(2,))
    back = schemes.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s and back.in_axis == (0, 1) and back.batch_axis == (2,)
    assert schemes.Normal(0.5, 0.02).to_dict() == {"name": "normal", "mean": 0.5, "std": 0.02}
    assert schemes.Sparse(0.25, 0.5).to_dict() == {"name": "sparse", "sparsity": 0.25, "std": 0.5}
    assert s.to_dict() == {"name": "variance_scaling", "scale": 0.5, "mode": "fan_avg",
                           "distribution": "uniform", "layout": "jax", "in_axis": [0, 1],
                           "out_axis": -1, "batch_axis": [2]}
    for s in (schemes.Sparse(0.25, 0.5), schemes.Dirac(3), schemes.TruncatedNormal(1, 2, -1, 4),
              schemes.Constant(-0.5), schemes.Constant(-0.0), schemes.Orthogonal(1.5)):
        assert schemes.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_names_resolve_to_the_expected_schemes():
    assert schemes.get("zeros") == schemes.Constant(0.0)
    assert schemes.get("ones") == schemes.Constant(1.0)
    assert schemes.get("ones").to_dict() == {"name": "ones"}
    assert schemes.Constant(0.0).to_dict() == {"name": "zeros"}
    assert schemes.from_dict({"name": "he_normal"}) == schemes.get("he_normal")  # any initializer name
    assert schemes.get("he_normal") == schemes.get("kaiming_normal")
    linear = schemes.get("kaiming_uniform_", a=math.sqrt(5))  # nn.Linear's default
    assert (linear.mode, linear.distribution) == ("fan_in", "uniform")
    assert linear.scale == pytest.approx(1 / 3, rel=1e-15)
    assert schemes.get("xavier_normal", gain=2.0) == schemes.VarianceScaling(4.0, "fan_avg", "normal")
    assert schemes.get("lecun_normal").distribution == "truncated_normal"
    assert schemes.get("selu") == schemes.VarianceScaling(1.0, "fan_in", "normal")


def test_schemes_are_immutable():
    s = schemes.get("he_uniform")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.scale = 3.0


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown initializer name 'he_normall'.*kaiming_normal"):
        schemes.get("he_normall")
    with pytest.raises(TypeError, match="name must be a str"):
        schemes.get(3)


def test_unknown_override_is_named():
    with pytest.raises(ValueError, match="xavier_uniform does not take parameter.*mode.*takes: gain, layout"):
        schemes.get("xavier_uniform", mode="fan_in")


@pytest.mark.parametrize("d, exc, match", [
    ({"scale": 1.0}, TypeError, "'name'"),
    ([("name", "eye")], TypeError, "'name'"),
    ({"name": 3}, TypeError, "'name'"),
    ({"name": "he_normall"}, ValueError, "unknown initializer name.*he_normal"),
    ({"name": "eye", "gain": 1.0}, ValueError, "eye does not take parameter.*gain"),
    ({"name": "normal", "stddev": 1.0}, ValueError, "normal does not take parameter.*stddev"),
    ({"name": "variance_scaling", "mode": "fan_sum"}, ValueError, "mode"),
])
def test_from_dict_errors(d, exc, match):
    with pytest.raises(exc, match=match):
        schemes.from_dict(d)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_flag(name):
    assert schemes.get(name).elementwise is True


@pytest.mark.parametrize("name", STRUCTURED)
def test_structured_schemes_refuse_chunks(name):
    s = schemes.get(name)
    assert s.elementwise is False
    with pytest.raises(TypeError, match="not elementwise"):
        s.fill_chunk_(np.empty(10), (5, 4, 3), 0, seed=0, stream=0)


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("dtype", DTYPES)
def test_chunked_fill_equals_whole_fill(name, dtype):
    s = schemes.get(name)
    shape = (3, 37, 41)
    whole = s.init_(np.empty(shape, dtype), seed=99, stream="blocks.3.mlp", threads=2)
    flat = np.empty(math.prod(shape), dtype)
    cuts = [0, 1, 5, 1000, 1001, 2048, 4000, flat.size]
    for lo, hi in zip(cuts, cuts[1:]):
        chunk = np.empty(hi - lo, dtype)
        s.fill_chunk_(chunk, shape, lo, seed=99, stream="blocks.3.mlp", threads=1)
        flat[lo:hi] = chunk
    assert flat.tobytes() == whole.tobytes()


def test_fill_chunk_checks_its_arguments():
    s = schemes.get("he_uniform")
    chunk = np.zeros(10)
    with pytest.raises(ValueError, match="outside a tensor of shape"):
        s.fill_chunk_(chunk, (4, 4), 7, seed=0, stream=0)
    with pytest.raises(ValueError, match="seed must be given"):
        s.fill_chunk_(chunk, (4, 4), 0, seed=None, stream=0)
    with pytest.raises(ValueError, match="offset"):
        s.fill_chunk_(chunk, (4, 4), -1, seed=0, stream=0)
    with pytest.raises(TypeError, match="chunk"):
        s.fill_chunk_(np.zeros(10, np.int64), (4, 4), 0, seed=0, stream=0)
    assert not chunk.any()


@pytest.mark.parametrize("name, kwargs, shape", [
    ("he_uniform", {}, (300, 200)), ("he_normal", dict(mode="fan_out"), (200, 10, 3)),
    ("xavier_uniform", dict(gain=3.0), (300, 200)), ("lecun_normal", {}, (300, 200)),
    ("variance_scaling", dict(mode="fan_geo_avg", distribution="truncated_normal"), (300, 200)),
    ("uniform", dict(low=-1, high=3), (300, 200)), ("normal", dict(mean=2, std=0.3), (300, 200)),
    ("trunc_normal", dict(mean=0.5, std=2.0, a=0.0, b=1.0), (300, 200)),
    ("sparse", dict(sparsity=0.4, std=0.5), (300, 200)),
])
def test_std_matches_the_values_produced(name, kwargs, shape):
    s = schemes.get(name, **kwargs)
    w = s.init_(np.empty(shape), seed=1)
    se = 5 * s.std(shape) / math.sqrt(2 * w.size)  # 5 standard errors of a sample std
    assert abs(w.std() - s.std(shape)) < se * (3 if name == "sparse" else 1), \
        f"{name}: sample std {w.std():.6g}, scheme.std {s.std(shape):.6g}"


@pytest.mark.parametrize("name, kwargs, shape", [
    ("eye", {}, (5, 7)), ("eye", {}, (9, 2)), ("dirac", dict(groups=2), (6, 4, 3, 3)),
    ("zeros", {}, (4, 4)), ("ones", {}, (4, 4)), ("constant", dict(value=3.5), (4, 4)),
])
def test_std_of_deterministic_schemes_is_exact(name, kwargs, shape):
    s = schemes.get(name, **kwargs)
    w = s.init_(np.empty(shape), seed=1)
    assert s.std(shape) == pytest.approx(w.std(), abs=1e-15)


def test_orthogonal_std_is_that_of_a_scaled_semi_orthogonal_matrix():
    # any (semi-)orthogonal matrix has sum of squares min(rows, cols)
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((12, 5)))[0]
    assert schemes.Orthogonal(2.0).std((12, 5)) == pytest.approx(np.sqrt((4 * q**2).mean()), rel=1e-12)
    assert schemes.Orthogonal(2.0).std((5, 3, 4)) == schemes.Orthogonal(2.0).std((5, 12))


@pytest.mark.parametrize("a, b", [(-2, 2), (-1, 3), (0, 1), (6, 8), (-8, -6), (-math.inf, 0.5),
                                  (1, math.inf)])
def test_truncated_normal_std_against_scipy(a, b):
    s = schemes.TruncatedNormal(1.0, 2.0, 1.0 + 2.0 * a, 1.0 + 2.0 * b)
    assert s.std(None) == pytest.approx(2.0 * stats.truncnorm.std(a, b), rel=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, ml_dtypes.bfloat16])
def test_zeros_ones_constant_fill(dtype):
    np.testing.assert_array_equal(schemes.get("zeros").init_(np.full(7, 5.0, dtype)), np.zeros(7))
    np.testing.assert_array_equal(schemes.get("ones").init_(np.zeros(7, dtype)), np.ones(7))
    np.testing.assert_array_equal(schemes.Constant(-2.5).init_(np.zeros(7, dtype)), np.full(7, -2.5))


@pytest.mark.parametrize("cls, kwargs, exc, match", [
    (schemes.Uniform, dict(low=1, high=1), ValueError, "high must be greater than low"),
    (schemes.Normal, dict(stddev=-1), ValueError, "^std must be non-negative"),  # the name users type
    (schemes.TruncatedNormal, dict(a=1, b=0), ValueError, "a must be less than b"),
    (schemes.Constant, dict(value="1"), TypeError, "value"),
    (schemes.Constant, dict(value=math.nan), ValueError, "value"),
    (schemes.VarianceScaling, dict(scale=-2), ValueError, "scale"),
    (schemes.VarianceScaling, dict(batch_axis=None), TypeError, "batch_axis"),
    (schemes.Dirac, dict(groups=1.0), TypeError, "groups"),
    (schemes.Sparse, dict(sparsity=-0.1), ValueError, "sparsity"),
    (schemes.Orthogonal, dict(gain=None), TypeError, "gain"),
])
def test_bad_parameters(cls, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        cls(**kwargs)


def test_variance_scaling_std_needs_a_nonzero_fan():
    with pytest.raises(ValueError, match="fan_in of shape"):
        schemes.get("he_normal").std((4, 0))
