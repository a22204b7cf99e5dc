"""Forward/backward signal propagation through deep MLPs and unrolled RNNs."""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._checks import real
from ._nn import XAVIER_FAN_IN, MLP, act_derivative, act_forward, check_activation, check_int, check_widths, per_layer, resolve_scheme

__all__ = ["LayerStats", "PropagationReport", "RNNReport", "Verdict", "propagate", "propagate_rnn", "verdict",
           "VANISHING_RATIO", "EXPLODING_RATIO", "SATURATION_LIMIT", "DEAD_LIMIT",
           "SIGMOID_SATURATION", "TANH_SATURATION"]

# ---- thresholds (documented; the verdict states them) ---------------------------------
#: a ratio (last/first layer activation std, or first/last layer gradient norm) below this is vanishing
VANISHING_RATIO = 1e-2
#: ... and above this is exploding
EXPLODING_RATIO = 1e2
#: more than this fraction of saturated units (sigmoid/tanh) in any layer counts as vanishing gradients
SATURATION_LIMIT = 0.5
#: more than this fraction of dead units (relu: zero for every input of the batch) in any layer
DEAD_LIMIT = 0.5
#: sigmoid unit is saturated when h < 0.01 or h > 0.99 (derivative < 0.0099)
SIGMOID_SATURATION = 0.01
#: tanh unit is saturated when |h| > 0.99 (derivative < 0.0199)
TANH_SATURATION = 0.99


@dataclasses.dataclass(frozen=True)
class LayerStats:
    """Statistics of one layer over the batch (all floats are over every element)."""
    index: int                 #: 1-based layer number
    fan_in: int
    fan_out: int
    weight_std: float          #: std of the sampled weight matrix
    preact_mean: float         #: mean of z = h_{l-1} W^T + b
    preact_std: float
    act_mean: float            #: mean of h = f(z)
    act_std: float
    act_second_moment: float   #: E[h^2]
    saturated_fraction: float | None  #: sigmoid/tanh only (thresholds above)
    dead_fraction: float | None       #: relu only: units that are 0 for every input
    zero_fraction: float | None       #: relu only: fraction of exactly-zero activations
    grad_weight_norm: float    #: Frobenius norm of dL/dW_l
    grad_act_rms: float        #: RMS of dL/dh_l (the backward signal)


@dataclasses.dataclass(frozen=True)
class Verdict:
    """``status`` is "vanishing", "exploding" or "healthy"; ``reasons`` say why."""
    status: str
    forward_ratio: float
    backward_ratio: float
    reasons: tuple
    thresholds: dict

    def __str__(self):
        t = self.thresholds
        head = (f"verdict: {self.status.upper()}  (activation std last/first layer = {self.forward_ratio:.3g}, "
                f"backward signal rms dL/dh first/last layer = {self.backward_ratio:.3g})")
        rule = (f"thresholds: vanishing if a ratio < {t['vanishing_ratio']:g}, exploding if > {t['exploding_ratio']:g}; "
                f"also vanishing if > {t['saturation_limit']:.0%} of units saturated (sigmoid/tanh) "
                f"or > {t['dead_limit']:.0%} dead (relu) in any layer")
        return "\n".join([head, *("  - " + r for r in self.reasons), rule])


def _ratio(a, b):
    if b == 0:
        return math.inf if a > 0 else 1.0
    return a / b


def _classify(forward_ratio, backward_ratio, extra_vanishing, low, high):
    reasons = []
    vanish = exploding = False
    for label, r in (("activation std last/first layer", forward_ratio), ("backward signal rms dL/dh first/last layer", backward_ratio)):
        if not math.isfinite(r) or r > high:
            exploding = True
            reasons.append(f"{label} = {r:.3g} > {high:g}")
        elif r < low:
            vanish = True
            reasons.append(f"{label} = {r:.3g} < {low:g}")
    if extra_vanishing:
        vanish = True
        reasons.extend(extra_vanishing)
    status = "exploding" if exploding else "vanishing" if vanish else "healthy"
    if status == "healthy":
        reasons.append(f"both ratios within [{low:g}, {high:g}]")
    return status, tuple(reasons)


@dataclasses.dataclass(frozen=True)
class PropagationReport:
    """Result of :func:`propagate`."""
    activation: str
    widths: tuple
    schemes: tuple             #: scheme dicts, one per layer
    batch: int
    seed: int
    layers: tuple              #: LayerStats, one per layer

    def column(self, field):
        return np.array([getattr(s, field) for s in self.layers], dtype=float)

    def verdict(self, **thresholds):
        return verdict(self, **thresholds)

    def table(self):
        sat = self.activation in ("sigmoid", "tanh")
        dead = self.activation == "relu"
        extra = "  saturated" if sat else "       dead" if dead else ""
        lines = [f"{'layer':>5} {'fan_in':>6} {'fan_out':>7} {'w std':>9} {'z std':>10} {'h mean':>10} {'h std':>10}"
                 f"{extra} {'|dL/dW|':>10} {'rms dL/dh':>10}"]
        for s in self.layers:
            col = ""
            if sat:
                col = f" {s.saturated_fraction:>10.1%}"
            elif dead:
                col = f" {s.dead_fraction:>10.1%}"
            lines.append(f"{s.index:>5} {s.fan_in:>6} {s.fan_out:>7} {s.weight_std:>9.4g} {s.preact_std:>10.4g} "
                         f"{s.act_mean:>10.4g} {s.act_std:>10.4g}{col} {s.grad_weight_norm:>10.4g} {s.grad_act_rms:>10.4g}")
        return "\n".join(lines)

    def to_dict(self):
        return dataclasses.asdict(self)


def _scheme_dict(s):
    try:
        return s.to_dict()
    except AttributeError:  # a user object without to_dict
        return {"name": repr(s)}


def _inputs(inputs, batch, width, seed, input_std, name="inputs"):
    import weightinit as wi
    if inputs is None:
        x = np.empty((batch, width), np.float64)
        return wi.normal_(x, 0.0, input_std, seed=seed, stream="diagnostics.inputs")
    x = np.asarray(inputs, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{name} must have shape (batch, {width}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")
    return x


def propagate(widths, activation="relu", scheme="he_normal", *, bias="zeros", inputs=None, batch=1000,
              seed=0, input_std=1.0, slope=0.01, weights=None):
    """Push a batch through a deep MLP, forward and backward, in numpy (float64).

    Every layer is ``z_l = h_{l-1} W_l^T + b_l``, ``h_l = f(z_l)`` (the activation is
    applied after every layer, as in the classic histogram experiment). The backward
    pass starts from the loss ``L = sum(r * h_L) / batch`` with ``r ~ N(0, 1)``, a random
    linear read-out, so gradient norms measure how the network transmits a generic
    error signal.

    Parameters
    ----------
    widths : sequence of int
        ``[input width, width of layer 1, ..., width of layer L]``.
    activation : str
        One of linear, sigmoid, tanh, relu, leaky_relu (negative slope ``slope``), selu,
        gelu (tanh approximation).
    scheme : str, dict, scheme object, or a list of these (one per layer)
        Weight initializer, e.g. ``"he_normal"`` or ``schemes.get("normal", std=0.01)``.
    bias : str, dict or scheme object
        Bias initializer (default zeros).
    inputs : array (batch, widths[0]), optional
        Given inputs; by default ``batch`` rows of N(0, input_std^2) from stream
        ``"diagnostics.inputs"``.
    seed : int
        Seed of all weights (stream ``"layer{i}.weight"``), inputs and the read-out.
    weights : list of arrays, optional
        Use these weight matrices (shape ``(fan_out, fan_in)``) instead of sampling.

    Returns
    -------
    PropagationReport
    """
    import weightinit as wi
    activation = check_activation(activation)
    widths = check_widths(widths)
    batch = check_int(batch, "batch")
    input_std = real("input_std", input_std, positive=True)
    slope = real("slope", slope)
    n = len(widths) - 1
    sch = per_layer(scheme, n, "scheme")
    bsch = resolve_scheme(bias, "bias")
    x = _inputs(inputs, batch, widths[0], seed, input_std)
    if weights is not None:
        weights = [np.asarray(w, dtype=np.float64) for w in weights]
        if len(weights) != n or any(w.shape != (fo, fi) for w, fi, fo in zip(weights, widths[:-1], widths[1:])):
            raise ValueError(f"weights must be {n} arrays of shapes {[(fo, fi) for fi, fo in zip(widths[:-1], widths[1:])]}, "
                             f"got {[w.shape for w in weights]}")
        biases = []
        for i in range(n):
            b = np.empty(widths[i + 1])
            bsch.init_(b, seed=seed, stream=f"layer{i}.bias")
            biases.append(b)
        net = MLP(weights, biases, activation, slope=slope)
    else:
        net = MLP.build(widths, activation, sch, bsch, seed=seed, slope=slope)
    with np.errstate(over="ignore", invalid="ignore"):
        zs, hs = net.forward(x)
        r = np.empty_like(hs[-1])
        wi.normal_(r, seed=seed, stream="diagnostics.readout")
        dws, _, dhs = net.backward(zs, hs, r / x.shape[0])
    stats = []
    for i in range(n):
        z, h = zs[i], hs[i + 1]
        sat = dead = zero = None
        if activation == "sigmoid":
            sat = float(np.mean((h < SIGMOID_SATURATION) | (h > 1 - SIGMOID_SATURATION)))
        elif activation == "tanh":
            sat = float(np.mean(np.abs(h) > TANH_SATURATION))
        elif activation == "relu":
            dead = float(np.mean(np.all(h == 0, axis=0)))
            zero = float(np.mean(h == 0))
        stats.append(LayerStats(
            index=i + 1, fan_in=widths[i], fan_out=widths[i + 1], weight_std=float(net.weights[i].std()),
            preact_mean=float(z.mean()), preact_std=float(z.std()),
            act_mean=float(h.mean()), act_std=float(h.std()), act_second_moment=float(np.mean(h * h)),
            saturated_fraction=sat, dead_fraction=dead, zero_fraction=zero,
            grad_weight_norm=float(np.linalg.norm(dws[i])), grad_act_rms=float(np.sqrt(np.mean(dhs[i + 1] ** 2))),
        ))
    recorded = tuple({"name": "given"} for _ in range(n)) if weights is not None else tuple(_scheme_dict(s) for s in sch)
    return PropagationReport(activation=activation, widths=tuple(widths), schemes=recorded,
                             batch=x.shape[0], seed=seed, layers=tuple(stats))


def verdict(report, *, vanishing_ratio=VANISHING_RATIO, exploding_ratio=EXPLODING_RATIO,
            saturation_limit=SATURATION_LIMIT, dead_limit=DEAD_LIMIT):
    """Classify a :class:`PropagationReport` or :class:`RNNReport` as vanishing, exploding or healthy.

    For an MLP: ``forward_ratio = std(h_L) / std(h_1)`` and
    ``backward_ratio = rms(dL/dh_1) / rms(dL/dh_L)`` (the back-propagated signal; the
    ratio of weight-gradient norms would not do: for a bias-free relu net it does not
    depend on the weight scale at all). Either ratio below ``vanishing_ratio``
    (default 1e-2), more than ``saturation_limit`` (50%) of sigmoid/tanh units
    saturated, or more than ``dead_limit`` (50%) relu units dead in any layer means
    *vanishing*; either ratio above ``exploding_ratio`` (1e2) or non-finite means
    *exploding* (which wins). For an RNN the ratios are
    ``|h_T| / |h_1|`` and ``|dL/dh_1| / |dL/dh_T|`` over the unrolled steps.
    """
    low = real("vanishing_ratio", vanishing_ratio, positive=True)
    high = real("exploding_ratio", exploding_ratio, positive=True)
    if not low < 1 < high:
        raise ValueError(f"need vanishing_ratio < 1 < exploding_ratio, got {low} and {high}")
    sat_lim = real("saturation_limit", saturation_limit, positive=True)
    dead_lim = real("dead_limit", dead_limit, positive=True)
    thresholds = dict(vanishing_ratio=low, exploding_ratio=high, saturation_limit=sat_lim, dead_limit=dead_lim)
    extra = []
    if isinstance(report, PropagationReport):
        L = report.layers
        fwd = _ratio(L[-1].act_std, L[0].act_std)
        bwd = _ratio(L[0].grad_act_rms, L[-1].grad_act_rms)
        for s in L:
            if s.saturated_fraction is not None and s.saturated_fraction > sat_lim:
                extra.append(f"layer {s.index}: {s.saturated_fraction:.1%} of {report.activation} units saturated "
                             f"(> {sat_lim:.0%})")
                break
        for s in L:
            if s.dead_fraction is not None and s.dead_fraction > dead_lim:
                extra.append(f"layer {s.index}: {s.dead_fraction:.1%} of relu units dead (> {dead_lim:.0%})")
                break
    elif isinstance(report, RNNReport):
        fwd = _ratio(report.hidden_norm[-1], report.hidden_norm[0])
        bwd = _ratio(report.grad_norm[0], report.grad_norm[-1])
        if report.saturated_fraction is not None and report.saturated_fraction > sat_lim:
            extra.append(f"{report.saturated_fraction:.1%} of hidden units saturated (> {sat_lim:.0%})")
    else:
        raise TypeError(f"report must be a PropagationReport or RNNReport, got {type(report).__name__}")
    status, reasons = _classify(fwd, bwd, extra, low, high)
    return Verdict(status=status, forward_ratio=fwd, backward_ratio=bwd, reasons=reasons, thresholds=thresholds)


# ---- recurrent ------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RNNReport:
    """Result of :func:`propagate_rnn`; arrays are indexed by step t = 1..T (position t-1)."""
    activation: str
    sizes: tuple               #: (input_size, hidden_size, output_size)
    steps: int
    schemes: dict              #: role -> scheme dict
    hidden_norm: np.ndarray    #: mean over the batch of ||h_t||_2
    grad_norm: np.ndarray      #: mean over the batch of ||dL/dh_t||_2 (BPTT from the last step)
    saturated_fraction: float | None  #: tanh/sigmoid: fraction of saturated h_t over all steps
    grad_whh_norm: float       #: Frobenius norm of dL/dWhh

    def verdict(self, **thresholds):
        return verdict(self, **thresholds)

    def table(self):
        lines = [f"{'step':>5} {'|h_t|':>11} {'|dL/dh_t|':>11}"]
        for t in range(self.steps):
            lines.append(f"{t + 1:>5} {self.hidden_norm[t]:>11.4g} {self.grad_norm[t]:>11.4g}")
        return "\n".join(lines)


def propagate_rnn(input_size, hidden_size, output_size=None, *, steps=50, activation="tanh",
                  wxh=XAVIER_FAN_IN, whh="orthogonal", why=XAVIER_FAN_IN, bias="zeros",
                  inputs=None, batch=64, seed=0, input_std=1.0, slope=0.01):
    """Unroll an Elman RNN ``h_t = f(x_t Wxh^T + h_{t-1} Whh^T + bh)`` (h_0 = 0) for
    ``steps`` steps, read out ``y = h_T Why^T + by`` and back-propagate through time from
    ``L = sum(r * y) / batch`` (``r ~ N(0, 1)``).

    Returns the hidden-state norm and the BPTT gradient norm ``||dL/dh_t||`` per step:
    the gradient that reaches step t from the loss at step T. Defaults: Wxh and Why
    N(0, 1/fan_in) (``XAVIER_FAN_IN``), Whh orthogonal, biases zero. Weights use streams
    ``"rnn.Wxh"``, ``"rnn.Whh"``, ``"rnn.Why"`` (biases ``"rnn.bh"``, ``"rnn.by"``);
    inputs are N(0, input_std^2) from ``"diagnostics.rnn_inputs"`` unless ``inputs`` (shape
    ``(steps, batch, input_size)``) is given.
    """
    import weightinit as wi
    activation = check_activation(activation)
    input_size = check_int(input_size, "input_size")
    hidden_size = check_int(hidden_size, "hidden_size")
    output_size = hidden_size if output_size is None else check_int(output_size, "output_size")
    steps = check_int(steps, "steps")
    batch = check_int(batch, "batch")
    slope = real("slope", slope)
    input_std = real("input_std", input_std, positive=True)
    roles = {"Wxh": resolve_scheme(wxh, "wxh"), "Whh": resolve_scheme(whh, "whh"), "Why": resolve_scheme(why, "why")}
    bsch = resolve_scheme(bias, "bias")
    shapes = {"Wxh": (hidden_size, input_size), "Whh": (hidden_size, hidden_size), "Why": (output_size, hidden_size)}
    W = {}
    for role, s in roles.items():
        W[role] = s.init_(np.empty(shapes[role]), seed=seed, stream=f"rnn.{role}")
    bh = bsch.init_(np.empty(hidden_size), seed=seed, stream="rnn.bh")
    if inputs is None:
        xs = wi.normal_(np.empty((steps, batch, input_size)), 0.0, input_std, seed=seed, stream="diagnostics.rnn_inputs")
    else:
        xs = np.asarray(inputs, dtype=np.float64)
        if xs.ndim != 3 or xs.shape[0] != steps or xs.shape[2] != input_size:
            raise ValueError(f"inputs must have shape (steps={steps}, batch, input_size={input_size}), got {xs.shape}")
        batch = xs.shape[1]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        h = np.zeros((batch, hidden_size))
        zs, hs = [], []
        for t in range(steps):
            z = xs[t] @ W["Wxh"].T + h @ W["Whh"].T + bh
            h = act_forward(activation, z, slope)
            zs.append(z)
            hs.append(h)
        r = wi.normal_(np.empty((batch, output_size)), seed=seed, stream="diagnostics.readout")
        g = (r / batch) @ W["Why"]          # dL/dh_T
        grad_norm = np.empty(steps)
        dwhh = np.zeros_like(W["Whh"])
        for t in range(steps - 1, -1, -1):
            grad_norm[t] = np.mean(np.linalg.norm(g, axis=1))
            dz = g * act_derivative(activation, zs[t], hs[t], slope)
            if t > 0:
                dwhh += dz.T @ hs[t - 1]
            g = dz @ W["Whh"]
    hn = np.array([np.mean(np.linalg.norm(hh, axis=1)) for hh in hs])
    sat = None
    if activation == "tanh":
        sat = float(np.mean([np.mean(np.abs(hh) > TANH_SATURATION) for hh in hs]))
    elif activation == "sigmoid":
        sat = float(np.mean([np.mean((hh < SIGMOID_SATURATION) | (hh > 1 - SIGMOID_SATURATION)) for hh in hs]))
    return RNNReport(activation=activation, sizes=(input_size, hidden_size, output_size), steps=steps,
                     schemes={k: _scheme_dict(v) for k, v in roles.items()}, hidden_norm=hn, grad_norm=grad_norm,
                     saturated_fraction=sat, grad_whh_norm=float(np.linalg.norm(dwhh)))
