import math

import pytest

from weightinit import calculate_gain, compute_fans

# (torch shape (out, in, *k), jax/keras shape (*k, in, out), fan_in, fan_out)
CONV_CASES = [
    ((10, 20), (20, 10), 20, 10),                        # Linear(20, 10)
    ((64, 3, 7), (7, 3, 64), 21, 448),                   # Conv1d(3, 64, 7)
    ((64, 3, 7, 5), (7, 5, 3, 64), 105, 2240),           # Conv2d(3, 64, (7, 5))
    ((8, 4, 3, 3, 3), (3, 3, 3, 4, 8), 108, 216),        # Conv3d(4, 8, 3)
    ((16, 1, 3, 3), (3, 3, 1, 16), 9, 144),              # depthwise-style
]


@pytest.mark.parametrize("torch_shape, jax_shape, fan_in, fan_out", CONV_CASES)
def test_conv_fans_in_every_layout(torch_shape, jax_shape, fan_in, fan_out):
    assert compute_fans(torch_shape) == (fan_in, fan_out)
    assert compute_fans(torch_shape, "torch") == (fan_in, fan_out)
    assert compute_fans(jax_shape, "jax") == (fan_in, fan_out)
    assert compute_fans(jax_shape, "keras") == (fan_in, fan_out)
    # the same numbers with explicit axes, as jax.nn.initializers.variance_scaling
    assert compute_fans(jax_shape, in_axis=-2, out_axis=-1) == (fan_in, fan_out)
    assert compute_fans(torch_shape, in_axis=1, out_axis=0) == (fan_in, fan_out)


def test_explicit_axes_override_layout():
    # (in, out, k): receptive field is the last axis
    assert compute_fans((3, 5, 7), in_axis=0, out_axis=1) == (21, 35)
    # overriding only one axis keeps the layout's other axis
    assert compute_fans((3, 5, 7), "jax", in_axis=0) == (15, 35)  # out stays -1


def test_batch_axis_counts_in_neither_fan():
    # a stack of 4 independent (in=6, out=5) matrices in jax layout
    assert compute_fans((4, 6, 5), "jax", batch_axis=0) == (6, 5)
    assert compute_fans((4, 6, 5), "jax") == (24, 20)
    assert compute_fans((4, 2, 6, 5), "jax", batch_axis=(0, 1)) == (6, 5)


def test_tuple_in_axis_multiplies_sizes():
    assert compute_fans((2, 3, 4), in_axis=(0, 1), out_axis=2) == (6, 4)


def test_zero_sized_dimensions_give_zero_fans():
    assert compute_fans((0, 5)) == (5, 0)
    assert compute_fans((4, 0, 3)) == (0, 12)


@pytest.mark.parametrize("shape", [(), (5,), [7]])
def test_fewer_than_two_dims_raise(shape):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        compute_fans(shape)


@pytest.mark.parametrize("kwargs, param", [
    (dict(layout="tf"), "layout"),
    (dict(layout=None), "layout"),
    (dict(in_axis=3), "in_axis"),
    (dict(out_axis=-4), "out_axis"),
    (dict(batch_axis=5), "batch_axis"),
])
def test_bad_layout_or_axis_value(kwargs, param):
    with pytest.raises(ValueError, match=param):
        compute_fans((2, 3, 4), **kwargs)


def test_overlapping_axes_raise():
    with pytest.raises(ValueError, match="must not share"):
        compute_fans((2, 3, 4), in_axis=0, out_axis=0)
    with pytest.raises(ValueError, match="must not share"):
        compute_fans((2, 3, 4), batch_axis=1)


@pytest.mark.parametrize("shape, exc", [
    ((2.0, 3), TypeError), ((2, "3"), TypeError), ((True, 3), TypeError),
    ("ab", TypeError), (None, TypeError), ((2, -3), ValueError),
])
def test_bad_shape(shape, exc):
    with pytest.raises(exc, match="shape"):
        compute_fans(shape)


def test_axis_of_wrong_type():
    with pytest.raises(TypeError, match="in_axis"):
        compute_fans((2, 3), in_axis=1.0)


@pytest.mark.parametrize("name", ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid"])
def test_gain_is_one_for_linear_functions(name):
    assert calculate_gain(name) == 1


def test_gain_table():
    assert calculate_gain("tanh") == pytest.approx(5 / 3, rel=1e-15)
    assert calculate_gain("relu") == pytest.approx(math.sqrt(2), rel=1e-15)
    assert calculate_gain("selu") == 0.75


@pytest.mark.parametrize("slope", [None, 0, 0.01, 0.2, 1, 3.5])
def test_leaky_relu_gain(slope):
    s = 0.01 if slope is None else slope
    assert calculate_gain("leaky_relu", slope) == pytest.approx(math.sqrt(2 / (1 + s * s)), rel=1e-15)


def test_leaky_relu_with_slope_zero_is_relu():
    assert calculate_gain("leaky_relu", 0) == pytest.approx(calculate_gain("relu"), rel=1e-15)


@pytest.mark.parametrize("param", [True, [1], {"a": 1}, "0.1", float("nan")])
def test_leaky_relu_only_accepts_numbers(param):
    with pytest.raises(ValueError, match="not a valid number"):
        calculate_gain("leaky_relu", param)


@pytest.mark.parametrize("name", ["relu6", "ReLU", "", None, 3])
def test_unknown_nonlinearity(name):
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        calculate_gain(name)
