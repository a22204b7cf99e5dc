"""constant_ (and zeros_, ones_, the Constant scheme) checks its value against the
output dtype's range like every other fill: a finite value that would round to inf
(or NaN for float8_e4m3fn) is a ValueError naming `value`, with nothing written; inf
is kept where the dtype has infinities, NaN everywhere."""
import math
import re

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi

F8E4 = np.dtype(ml_dtypes.float8_e4m3fn)
F8E5 = np.dtype(ml_dtypes.float8_e5m2)
BF16 = np.dtype(ml_dtypes.bfloat16)
# dtype -> (largest finite value, the magnitude from which values round beyond it,
#           whether that halfway point itself still rounds to the largest value)
RANGES = {
    "float32": (np.dtype(np.float32), float(np.finfo(np.float32).max), 2.0 ** 128 - 2.0 ** 103, False),
    "float16": (np.dtype(np.float16), 65504.0, 65520.0, False),
    "bfloat16": (BF16, float(ml_dtypes.finfo(BF16).max), 2.0 ** 128 - 2.0 ** 119, False),
    "float8_e4m3fn": (F8E4, 448.0, 464.0, True),
    "float8_e5m2": (F8E5, 57344.0, 61440.0, False),
}
SENTINEL = 3.0


def fresh(dt, n=37):
    return np.full(n, SENTINEL, dt)


def values(out):
    return out.astype(np.float64)


@pytest.mark.parametrize("name", sorted(RANGES))
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_values_up_to_the_rounding_edge_fill_the_largest_value(name, sign):
    dt, top, edge, tie_down = RANGES[name]
    for v in (top, np.nextafter(top, math.inf), np.nextafter(edge, 0.0)) + ((edge,) if tie_down else ()):
        out = wi.constant_(fresh(dt), sign * float(v))
        assert np.all(values(out) == sign * top), v


@pytest.mark.parametrize("name", sorted(RANGES))
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_finite_values_beyond_the_range_are_refused(name, sign):
    dt, _, edge, tie_down = RANGES[name]
    beyond = [np.nextafter(edge, math.inf), 2 * edge, 1e300] + ([] if tie_down else [edge])
    for v in beyond:
        out = fresh(dt)
        with pytest.raises(ValueError, match=re.escape(f"value={sign * float(v)!r} is outside the range of {name}")):
            wi.constant_(out, sign * float(v))
        assert np.all(values(out) == SENTINEL)


def test_the_issue_case_float8_e4m3fn_1000():
    out = fresh(F8E4)
    with pytest.raises(ValueError, match=r"value=1000.0 .*float8_e4m3fn .*448.*round to nan"):
        wi.constant_(out, 1000.0)
    assert np.all(values(out) == SENTINEL)


def test_float64_takes_every_float():
    out = wi.constant_(np.empty(5), 1.7976931348623157e308)
    assert np.all(out == 1.7976931348623157e308)


@pytest.mark.parametrize("name", ["float64"] + [n for n in sorted(RANGES) if n != "float8_e4m3fn"])
def test_inf_is_kept_where_the_dtype_has_it(name):
    dt = np.dtype(np.float64) if name == "float64" else RANGES[name][0]
    for v in (math.inf, -math.inf):
        assert np.all(values(wi.constant_(fresh(dt), v)) == v)


def test_inf_is_refused_for_float8_e4m3fn_which_has_none():
    for v in (math.inf, -math.inf):
        out = fresh(F8E4)
        with pytest.raises(ValueError, match=f"value={v!r}: float8_e4m3fn has no infinity"):
            wi.constant_(out, v)
        assert np.all(values(out) == SENTINEL)


@pytest.mark.parametrize("name", ["float64"] + sorted(RANGES))
def test_nan_is_allowed_in_every_dtype(name):
    dt = np.dtype(np.float64) if name == "float64" else RANGES[name][0]
    assert np.all(np.isnan(values(wi.constant_(fresh(dt), math.nan))))


def test_zeros_and_ones_and_the_constant_scheme_go_through_the_same_check():
    assert np.all(values(wi.ones_(fresh(F8E4))) == 1.0)
    assert np.all(values(wi.zeros_(fresh(F8E4))) == 0.0)
    for scheme, dt, v in [(wi.schemes.get("constant", value=1000.0), F8E4, "1000.0"),
                          (wi.schemes.Constant(70000.0), np.dtype(np.float16), "70000.0"),
                          (wi.schemes.get("constant(value=-1e39)"), BF16, "-1e\\+39")]:
        out = fresh(dt, 24).reshape(4, 6)
        with pytest.raises(ValueError, match=f"value={v} is outside the range"):
            scheme.init_(out, seed=0)
        with pytest.raises(ValueError, match=f"value={v} is outside the range"):
            scheme.init_(out[:2], seed=0, global_shape=(4, 6), offset=(2, 0))
        with pytest.raises(ValueError, match=f"value={v} is outside the range"):
            scheme.fill_chunk_(out.reshape(-1)[:5], (4, 6), 3, seed=0, stream=0)
        assert np.all(values(out) == SENTINEL)
    assert np.all(values(wi.schemes.get("ones").init_(fresh(F8E4, 6).reshape(2, 3), seed=0)) == 1.0)


def test_complex_parts_are_checked_against_their_float_dtype():
    for v, part in [(1e39 + 0j, "value.real"), (complex(0, -1e39), "value.imag")]:
        out = np.full(5, 2 + 2j, np.complex64)
        with pytest.raises(ValueError, match=f"{part}=.* is outside the range of float32"):
            wi.constant_(out, v)
        assert np.all(out == 2 + 2j)
    assert np.all(wi.constant_(np.empty(3, np.complex128), 1e39 + 1e300j) == 1e39 + 1e300j)
    out = wi.constant_(np.empty(3, np.complex64), complex(math.inf, 1.0))
    assert np.all(np.isinf(out.real)) and np.all(out.imag == 1.0)


def test_a_checkpoint_spec_with_an_out_of_range_constant_is_refused_before_writing(tmp_path):
    spec = {"seed": 0, "dtype": "float8_e4m3fn",
            "tensors": [{"name": "w", "shape": [4, 4], "scheme": "normal"},
                        {"name": "b", "shape": [4], "scheme": {"name": "constant", "value": 1000.0}}]}
    with pytest.raises(ValueError, match=r"tensor 'b' \(float8_e4m3fn\): value=1000.0 is outside the range"):
        wi.create_checkpoint(spec, tmp_path / "m.safetensors", progress=False)
    assert list(tmp_path.iterdir()) == []
