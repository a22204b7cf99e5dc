"""What the literature recommends for a given activation and layer kind."""
from __future__ import annotations

import dataclasses

__all__ = ["Recommendation", "recommend", "LAYER_KINDS", "RECOMMEND_ACTIVATIONS"]

LAYER_KINDS = ("linear", "conv", "rnn", "rnn_input", "bias", "embedding")
_RELU_FAMILY = ("relu", "leaky_relu", "prelu", "elu", "gelu", "silu", "swish", "mish")
_SYMMETRIC = ("tanh", "sigmoid", "linear", "identity", "softmax")
RECOMMEND_ACTIVATIONS = _RELU_FAMILY + _SYMMETRIC + ("selu",)

_HE = "He, Zhang, Ren & Sun (2015), Delving deep into rectifiers"
_GLOROT = "Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks"
_SELU = "Klambauer, Unterthiner, Mayr & Hochreiter (2017), Self-normalizing neural networks"
_SAXE = "Saxe, McClelland & Ganguli (2013), Exact solutions to the nonlinear dynamics of learning in deep linear networks"


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """``name`` and ``params`` give ``schemes.get(name, **params)``; :attr:`scheme` builds it."""
    name: str
    params: dict
    reason: str
    reference: str

    @property
    def scheme(self):
        from .. import schemes
        return schemes.get(self.name, **self.params)

    def __str__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args}): {self.reason} [{self.reference}]"


def recommend(activation="relu", layer="linear"):
    """The initialization the literature recommends for ``activation`` after a layer of kind ``layer``.

    He (variance 2/fan_in) for the ReLU family, Xavier/Glorot for tanh/sigmoid/linear,
    LeCun normal (1/fan_in) for SELU, orthogonal for recurrent (hidden-to-hidden)
    matrices, a Gaussian of variance 1/fan_in (Xavier-style) for RNN input/output
    matrices, N(0, 1) for embeddings and zeros for biases.

    Parameters
    ----------
    activation : str
        The nonlinearity that follows the layer: one of RECOMMEND_ACTIVATIONS.
    layer : str
        One of "linear", "conv", "rnn" (the recurrent matrix Whh), "rnn_input" (Wxh, Why),
        "bias", "embedding".

    Returns
    -------
    Recommendation

    Examples
    --------
    >>> import weightinit as wi
    >>> wi.recommend("relu").name
    'he_normal'
    """
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a str, got {type(activation).__name__} {activation!r}")
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a str, got {type(layer).__name__} {layer!r}")
    act = activation.lower()
    if act not in RECOMMEND_ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(RECOMMEND_ACTIVATIONS)}, got {activation!r}")
    if layer not in LAYER_KINDS:
        raise ValueError(f"layer must be one of {', '.join(LAYER_KINDS)}, got {layer!r}")
    if layer == "bias":
        return Recommendation("zeros", {}, "biases start at zero: random weights already break the symmetry, "
                              "and a zero bias keeps the pre-activation mean at zero", _GLOROT)
    if layer == "embedding":
        return Recommendation("normal", {"std": 1.0}, "an embedding row is looked up, not summed over a fan-in: "
                              "unit-variance entries (the torch.nn.Embedding default)", "Vaswani et al. (2017)")
    if layer == "rnn":
        return Recommendation("orthogonal", {}, "an orthogonal recurrent matrix has all singular values 1, so the "
                              "hidden state and the BPTT gradient keep their norm over time steps (in the linear "
                              "regime) instead of vanishing or exploding geometrically", _SAXE)
    if layer == "rnn_input":
        return Recommendation("variance_scaling", {"scale": 1.0, "mode": "fan_in", "distribution": "normal"},
                              "input-to-hidden and hidden-to-output matrices: Xavier-style normal "
                              "with variance 1/fan_in keeps the drive to each unit at unit variance", _GLOROT)
    where = "convolution (fan_in = in_channels x kernel size)" if layer == "conv" else "dense layer"
    if act in _RELU_FAMILY:
        return Recommendation("he_normal", {}, f"{act} zeroes (or nearly zeroes) half of its inputs, so a {where} "
                              "needs variance 2/fan_in to keep the activation second moment constant with depth", _HE)
    if act == "selu":
        return Recommendation("lecun_normal", {}, f"SELU's self-normalizing fixed point (mean 0, variance 1) "
                              f"assumes weights of variance 1/fan_in in every {where}", _SELU)
    return Recommendation("xavier_normal", {}, f"{act} is nearly linear around 0 and saturates far from it: variance "
                          f"2/(fan_in + fan_out) balances the forward and backward signal through a {where}", _GLOROT)
