"""Named in-place initializers for numpy arrays (the names users know from
torch.nn.init, JAX and Keras).

Each one builds the matching scheme (:mod:`weightinit.schemes`) and fills `out`
with it, so ``X_(out, ..., seed=s, stream=t)`` and
``schemes.get("X", ...).init_(out, seed=s, stream=t)`` give the same bits.
All take ``seed=None`` (None: fresh OS entropy), ``stream=0`` (int or str, e.g. a
parameter name) and ``threads=None``; the values never depend on ``threads``.
All also take ``global_shape=`` and ``offset=`` (start indices, one per dimension):
`out` is then the block ``[offset[0]:offset[0] + out.shape[0], ...]`` of the tensor of
shape `global_shape` (a shard), equal bit for bit to that block of the whole fill;
fans, gains and bounds come from `global_shape`, e.g.
``kaiming_normal_(local, seed=1, stream="conv", global_shape=(64, 32, 3, 3), offset=(0, 16, 0, 0))``.
Fan-based initializers take ``layout="torch"`` (weight ``(out, in, *kernel)``) or
``"jax"``/``"keras"`` (kernel ``(*kernel, in, out)``), see :func:`weightinit.compute_fans`,
and warn "Initializing zero-element tensors is a no-op" on empty arrays, as torch does
(for a block: when `global_shape` has no elements; an empty block of a non-empty
tensor is filled silently, i.e. not at all).
"""
from __future__ import annotations

from . import schemes as _s

__all__ = [
    "xavier_uniform_", "xavier_normal_", "glorot_uniform_", "glorot_normal_",
    "kaiming_uniform_", "kaiming_normal_", "he_uniform_", "he_normal_",
    "lecun_uniform_", "lecun_normal_", "selu_", "variance_scaling_",
    "eye_", "dirac_", "sparse_", "orthogonal_", "delta_orthogonal_",
]


def _run(scheme, out, seed, stream, threads, global_shape=None, offset=None):
    if global_shape is None and offset is None:
        return scheme.init_(out, seed=seed, stream=stream, threads=threads)
    return scheme.init_(out, seed=seed, stream=stream, threads=threads, global_shape=global_shape, offset=offset)


def xavier_uniform_(out, gain=1.0, *, layout="torch", seed=None, stream=0, threads=None,
                    global_shape=None, offset=None):
    r"""Glorot/Xavier uniform: :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{6/(\text{fan\_in}+\text{fan\_out})}`.

    Keeps the variance of activations and of gradients roughly constant across
    layers. Glorot & Bengio, "Understanding the difficulty of training deep
    feedforward neural networks", AISTATS 2010. Same as ``torch.nn.init.xavier_uniform_``
    and ``jax.nn.initializers.glorot_uniform`` (``gain=1``).

    Parameters
    ----------
    out : numpy.ndarray
        Writable C-contiguous float64/float32/float16/bfloat16/float8 array (or
        complex64/complex128: JAX's complex form, see VarianceScaling), >= 2-D.
    gain : float
        Positive scaling factor, e.g. ``calculate_gain("relu")``.
    layout, seed, stream, threads, global_shape, offset
        See the module docstring.

    Returns
    -------
    out

    Examples
    --------
    >>> import numpy as np, weightinit as wi
    >>> w = wi.xavier_uniform_(np.empty((256, 128), np.float32), seed=0)
    """
    return _run(_s.xavier_uniform(gain, layout), out, seed, stream, threads, global_shape, offset)


def xavier_normal_(out, gain=1.0, *, layout="torch", seed=None, stream=0, threads=None,
                   global_shape=None, offset=None):
    r"""Glorot/Xavier normal: :math:`N(0, \sigma^2)`, :math:`\sigma = \text{gain}\sqrt{2/(\text{fan\_in}+\text{fan\_out})}`.

    Glorot & Bengio (2010). Untruncated, as ``torch.nn.init.xavier_normal_``;
    JAX/Keras ``glorot_normal`` truncate at 2σ: use
    ``variance_scaling_(out, 1.0, "fan_avg", "truncated_normal")`` for that.

    >>> import numpy as np, weightinit as wi
    >>> w = wi.xavier_normal_(np.empty((256, 128), np.float32), seed=0)
    """
    return _run(_s.xavier_normal(gain, layout), out, seed, stream, threads, global_shape, offset)


def kaiming_uniform_(out, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *, layout="torch",
                     seed=None, stream=0, threads=None,
                     global_shape=None, offset=None):
    r"""He/Kaiming uniform: :math:`U(-b, b)`, :math:`b = \text{gain}\sqrt{3/\text{fan\_mode}}`,
    ``gain = calculate_gain(nonlinearity, a)``.

    He et al., "Delving deep into rectifiers: Surpassing human-level performance
    on ImageNet classification", ICCV 2015. Same parameters as
    ``torch.nn.init.kaiming_uniform_``: ``a`` is the negative slope of a leaky
    ReLU, ``mode`` is ``"fan_in"`` (forward pass) or ``"fan_out"`` (backward pass).
    ``nn.Linear``'s default is ``kaiming_uniform_(w, a=math.sqrt(5))``, i.e.
    :math:`U(-1/\sqrt{\text{fan\_in}}, 1/\sqrt{\text{fan\_in}})`.

    >>> import numpy as np, weightinit as wi
    >>> w = wi.kaiming_uniform_(np.empty((64, 3, 7, 7), np.float32), nonlinearity="relu", seed=0)
    """
    return _run(_s.kaiming_uniform(a, mode, nonlinearity, layout), out, seed, stream, threads, global_shape,
                offset)


def kaiming_normal_(out, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *, layout="torch",
                    seed=None, stream=0, threads=None,
                    global_shape=None, offset=None):
    r"""He/Kaiming normal: :math:`N(0, \sigma^2)`, :math:`\sigma = \text{gain}/\sqrt{\text{fan\_mode}}`.

    He et al. (2015); parameters as :func:`kaiming_uniform_`. Untruncated, as
    ``torch.nn.init.kaiming_normal_`` (JAX/Keras ``he_normal`` truncate at 2σ:
    ``variance_scaling_(out, 2.0, "fan_in", "truncated_normal")``).

    >>> import numpy as np, weightinit as wi
    >>> w = wi.kaiming_normal_(np.empty((512, 256), np.float32), mode="fan_out", nonlinearity="relu", seed=0)
    """
    return _run(_s.kaiming_normal(a, mode, nonlinearity, layout), out, seed, stream, threads, global_shape,
                offset)


def lecun_uniform_(out, *, layout="torch", seed=None, stream=0, threads=None,
                   global_shape=None, offset=None):
    r"""LeCun uniform: :math:`U(-b, b)`, :math:`b = \sqrt{3/\text{fan\_in}}` (variance 1/fan_in).

    LeCun et al., "Efficient BackProp", 1998; as ``jax.nn.initializers.lecun_uniform``.

    >>> import numpy as np, weightinit as wi
    >>> w = wi.lecun_uniform_(np.empty((128, 64)), seed=0)
    """
    return _run(_s.lecun_uniform(layout), out, seed, stream, threads, global_shape, offset)


def lecun_normal_(out, *, layout="torch", seed=None, stream=0, threads=None,
                  global_shape=None, offset=None):
    r"""LeCun normal: normal truncated at ±2σ, scaled so the std is :math:`1/\sqrt{\text{fan\_in}}`.

    LeCun et al. (1998); as ``jax.nn.initializers.lecun_normal`` and Keras
    ``LecunNormal``. For the untruncated N(0, 1/fan_in) see :func:`selu_`.

    >>> import numpy as np, weightinit as wi
    >>> w = wi.lecun_normal_(np.empty((128, 64)), seed=0)
    """
    return _run(_s.lecun_normal(layout), out, seed, stream, threads, global_shape, offset)


def selu_(out, *, layout="torch", seed=None, stream=0, threads=None,
          global_shape=None, offset=None):
    r"""Init for self-normalizing networks: :math:`N(0, 1/\text{fan\_in})`, untruncated.

    Klambauer et al., "Self-Normalizing Neural Networks", NeurIPS 2017 (the
    weights must have variance 1/n for the SELU fixed point). Equals
    ``kaiming_normal_(out, nonlinearity="linear")``.

    >>> import numpy as np, weightinit as wi
    >>> w = wi.selu_(np.empty((128, 64), np.float32), seed=0)
    """
    return _run(_s.selu(layout), out, seed, stream, threads, global_shape, offset)


def variance_scaling_(out, scale=1.0, mode="fan_in", distribution="truncated_normal", *,
                      layout="torch", in_axis=None, out_axis=None, batch_axis=(),
                      seed=None, stream=0, threads=None, global_shape=None, offset=None):
    r"""Zero-mean values with variance :math:`\text{scale}/n`, as JAX's and Keras' ``VarianceScaling``.

    ``n`` is ``fan_in``, ``fan_out``, ``fan_avg`` = (fan_in + fan_out)/2 or
    ``fan_geo_avg`` = sqrt(fan_in * fan_out). ``distribution``:

    - ``"truncated_normal"``: normal with std :math:`\sigma = \sqrt{\text{scale}/n}/0.87962566`
      truncated to :math:`[-2\sigma, 2\sigma]`, so that the std after truncation is
      :math:`\sqrt{\text{scale}/n}` (0.87962566... is the std of a standard normal truncated at ±2);
    - ``"normal"``: :math:`N(0, \text{scale}/n)`;
    - ``"uniform"``: :math:`U(-b, b)` with :math:`b = \sqrt{3\,\text{scale}/n}`.

    ``in_axis``, ``out_axis``, ``batch_axis`` override the layout as in
    ``jax.nn.initializers.variance_scaling``. He et al. (2015); Glorot & Bengio (2010).

    >>> import numpy as np, weightinit as wi
    >>> k = wi.variance_scaling_(np.empty((3, 3, 64, 128), np.float32), 2.0, "fan_in",
    ...                          "truncated_normal", layout="jax", seed=0)
    """
    scheme = _s.VarianceScaling(scale, mode, distribution, layout, in_axis, out_axis, batch_axis)
    return _run(scheme, out, seed, stream, threads, global_shape, offset)


def eye_(out, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
    """The identity matrix (2-D arrays only), as ``torch.nn.init.eye_``: keeps as many
    inputs as possible in a linear layer. ``seed`` and ``stream`` are accepted for
    uniformity and unused.

    >>> import numpy as np, weightinit as wi
    >>> wi.eye_(np.empty((2, 3))).tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    return _run(_s.Eye(), out, seed, stream, threads, global_shape, offset)


def dirac_(out, groups=1, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
    """The Dirac delta for 3-, 4-, 5-D conv weights ``(out, in, *kernel)``, as
    ``torch.nn.init.dirac_``: an identity convolution for as many channels as possible,
    per group. ``out.shape[0]`` must be divisible by ``groups``.

    >>> import numpy as np, weightinit as wi
    >>> w = wi.dirac_(np.empty((16, 16, 3, 3), np.float32))
    """
    return _run(_s.Dirac(groups), out, seed, stream, threads, global_shape, offset)


def sparse_(out, sparsity, std=0.01, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
    r"""Sparse init for 2-D arrays: :math:`N(0, \text{std}^2)` with ``ceil(sparsity * rows)``
    zeros in each column.

    Martens, "Deep learning via Hessian-free optimization", ICML 2010; as
    ``torch.nn.init.sparse_``. The zero positions are reproducible: they come from
    the sub-stream ``substream(stream, "sparse_mask")`` of the same seed.

    >>> import numpy as np, weightinit as wi
    >>> w = wi.sparse_(np.empty((100, 20), np.float32), sparsity=0.9, seed=0)
    >>> int((w == 0).sum(axis=0)[0])
    90
    """
    return _run(_s.Sparse(sparsity, std), out, seed, stream, threads, global_shape, offset)


def orthogonal_(out, gain=1.0, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
    """A (semi-)orthogonal matrix times `gain`, dimensions after the first flattened
    (Saxe et al., "Exact solutions to the nonlinear dynamics of learning in deep
    linear neural networks", 2013). Delegates to :func:`weightinit.orthogonal.orthogonal_`.
    """
    return _run(_s.Orthogonal(gain), out, seed, stream, threads, global_shape, offset)


def delta_orthogonal_(out, gain=1.0, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
    """Delta-orthogonal conv kernel (Xiao et al., "Dynamical isometry and a mean field
    theory of CNNs", ICML 2018). Delegates to :func:`weightinit.orthogonal.delta_orthogonal_`.
    """
    return _run(_s.DeltaOrthogonal(gain), out, seed, stream, threads, global_shape, offset)


glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
