"""Figures of signal propagation (matplotlib, an optional dependency:
``pip install weightinit[plot]``). Every function writes one PNG of exactly
``figsize * dpi`` pixels and returns the path."""
from __future__ import annotations

import os

import numpy as np

from ._nn import XAVIER_FAN_IN
from ._propagate import propagate_rnn

__all__ = ["CLASSIC_INITS", "plot_activation_histograms", "plot_std_per_layer", "plot_report", "plot_rnn_gradients"]


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("weightinit plots need matplotlib: pip install 'weightinit[plot]' "
                          "(or pip install matplotlib)") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def _check_path(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return os.fspath(path)


def _save(fig, path, dpi):
    plt = _pyplot()
    fig.savefig(path, dpi=dpi, format="png")
    plt.close(fig)
    return path


def CLASSIC_INITS():
    """The four initializations of the classic figure: N(0, 1), N(0, 0.01^2), Xavier, He."""
    from .. import schemes
    return {"std=1": schemes.get("normal", std=1.0), "std=0.01": schemes.get("normal", std=0.01),
            "Xavier": schemes.get("xavier_normal"), "He": schemes.get("he_normal")}


def plot_activation_histograms(path, *, activations=("sigmoid", "tanh", "relu"), inits=None, depth=5, width=100,
                               batch=1000, seed=0, dpi=80, figsize=None):
    """The classic grid: one row per (activation, initialization), one column per layer,
    each cell the histogram of that layer's activations (5 layers x 100 units, 1000
    N(0, 1) inputs by default). relu cells show the nonzero activations and state the
    zero fraction. Each cell is annotated with the activation std.
    """
    path = _check_path(path)
    plt = _pyplot()
    inits = CLASSIC_INITS() if inits is None else dict(inits)
    rows = [(a, k) for a in activations for k in inits]
    figsize = figsize or (2.0 * depth + 1.0, 1.25 * len(rows) + 0.8)
    fig, axes = plt.subplots(len(rows), depth, figsize=figsize, squeeze=False)
    for r, (act, label) in enumerate(rows):
        rep_h = _layer_activations(act, inits[label], depth, width, batch, seed)
        for c in range(depth):
            ax = axes[r][c]
            h = rep_h[c].ravel()
            note = f"std {h.std():.2g}"
            if act == "sigmoid":
                rng = (0.0, 1.0)
            elif act == "tanh":
                rng = (-1.0, 1.0)
            else:
                nz = h[h > 0]
                note += f", {1 - nz.size / h.size:.0%} zero"
                h = nz
                top = float(np.quantile(h, 0.99)) if h.size else 1.0
                rng = (0.0, top if top > 0 else 1.0)
            if h.size:
                ax.hist(h, bins=30, range=rng, color="C0" if act == "sigmoid" else "C1" if act == "tanh" else "C2")
            ax.set_yticks([])
            ax.xaxis.set_major_locator(plt.MaxNLocator(3))
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 4))
            ax.tick_params(labelsize=6)
            ax.text(0.98, 0.95, note, transform=ax.transAxes, ha="right", va="top", fontsize=6)
            if r == 0:
                ax.set_title(f"layer {c + 1}", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"{act}\n{label}", fontsize=8)
    fig.suptitle(f"Activation histograms: {depth} layers x {width} units, {batch} N(0,1) inputs", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    return _save(fig, path, dpi)


def _layer_activations(activation, scheme, depth, width, batch, seed):
    from ._nn import MLP, per_layer, resolve_scheme
    import weightinit as wi
    x = wi.normal_(np.empty((batch, width)), seed=seed, stream="diagnostics.inputs")
    net = MLP.build([width] * (depth + 1), activation, per_layer(scheme, depth, "scheme"),
                    resolve_scheme("zeros", "bias"), seed=seed)
    with np.errstate(over="ignore"):
        return net.forward(x)[1][1:]


def plot_std_per_layer(path, reports, *, labels=None, dpi=80, figsize=(11, 4)):
    """Two panels for a list of PropagationReports: activation std per layer and the
    back-propagated signal rms(dL/dh) per layer, both on log scales."""
    path = _check_path(path)
    reports = list(reports)
    if not reports:
        raise ValueError("reports must not be empty")
    from ._nn import scheme_label
    labels = labels or [f"{r.activation}, {scheme_label(r.schemes[0])}" for r in reports]
    if len(labels) != len(reports):
        raise ValueError(f"labels must have one entry per report ({len(reports)}), got {len(labels)}")
    plt = _pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=figsize)
    fwd_refs, bwd_refs = [], []
    for rep, lab in zip(reports, labels):
        layers = np.arange(1, len(rep.layers) + 1)
        f = np.maximum(rep.column("act_std"), 1e-300)
        b = np.maximum(rep.column("grad_act_rms"), 1e-300)
        a1.semilogy(layers, f, marker=".", label=lab)
        a2.semilogy(layers, b, marker=".", label=lab)
        fwd_refs.append(f[0])
        bwd_refs.append(b[-1])
    if len(reports) == 1:
        # the verdict's thresholds, relative to layer 1 (forward) and layer L (backward)
        from ._propagate import EXPLODING_RATIO, VANISHING_RATIO
        for ax, ref in ((a1, fwd_refs[0]), (a2, bwd_refs[0])):
            for r, txt in ((VANISHING_RATIO, "vanishing"), (EXPLODING_RATIO, "exploding")):
                ax.axhline(ref * r, color="gray", ls="--", lw=0.8)
                ax.text(1, ref * r, f" {txt} threshold", fontsize=7, va="bottom", color="gray")
    a1.set_xlabel("layer")
    a1.set_ylabel("activation std")
    a1.set_title("forward: activation std per layer")
    a2.set_xlabel("layer")
    a2.set_ylabel("rms dL/dh")
    a2.set_title("backward: gradient signal per layer")
    for a in (a1, a2):
        a.grid(True, which="both", alpha=0.3)
        a.xaxis.set_major_locator(plt.MaxNLocator(integer=True))  # layers are whole numbers
    a1.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_report(path, report, *, label=None, dpi=80, figsize=(11, 4)):
    """:func:`plot_std_per_layer` for one report, labelled with its verdict and with the
    verdict's thresholds drawn. ``label`` names the scheme (default: from the report)."""
    from ._nn import scheme_label
    v = report.verdict()
    label = label or scheme_label(report.schemes[0])
    return plot_std_per_layer(path, [report], labels=[f"{report.activation}, {label}: {v.status}"], dpi=dpi,
                              figsize=figsize)


_RNN_RANGE = 1e6   # the y axis spans ||dL/dh_T|| * [1e-6, 1e6]; curves leaving it are drawn at the edge


def plot_rnn_gradients(path, *, input_size=32, hidden_size=128, steps=50, batch=64, seed=0, input_std=0.1,
                       activations=("tanh", "linear"), dpi=80, figsize=(11, 4)):
    """BPTT gradient norm ||dL/dh_t|| versus step t for Whh ~ U[0, 1], Xavier
    (normal, variance 1/fan_in) and orthogonal, one panel per activation. Orthogonal
    is left out (and the panel says so) while ``orthogonal_`` is not implemented.
    Inputs are N(0, input_std^2) (0.1 by default: a weakly driven RNN, where the
    recurrent matrix dominates the dynamics).
    The y axis spans 1e-6 to 1e6 times ||dL/dh_T||; curves leaving it are drawn at its
    edge and the legend gives each curve's value at t = 1."""
    from .. import schemes
    path = _check_path(path)
    plt = _pyplot()
    whhs = {"Whh ~ U[0, 1]": schemes.get("uniform", low=0.0, high=1.0),
            "Whh Xavier (var 1/fan_in)": schemes.from_dict(XAVIER_FAN_IN),
            "Whh orthogonal": schemes.get("orthogonal")}
    fig, axes = plt.subplots(1, len(activations), figsize=figsize, squeeze=False)
    for ax, act in zip(axes[0], activations):
        missing = []
        ref = None
        for label, whh in whhs.items():
            try:
                rep = propagate_rnn(input_size, hidden_size, steps=steps, activation=act, whh=whh, batch=batch, seed=seed,
                                    input_std=input_std)
            except NotImplementedError:
                missing.append(label)
                continue
            g = np.where(np.isfinite(rep.grad_norm), rep.grad_norm, np.inf)
            ref = g[-1] if ref is None else ref    # same read-out for every Whh: same ||dL/dh_T||
            lo, hi = ref * _RNN_RANGE ** -1, ref * _RNN_RANGE
            ax.semilogy(np.arange(1, steps + 1), np.clip(g, lo, hi),
                        label=f"{label}: {rep.verdict().status} (||dL/dh_1|| = {g[0]:.2g})")
        if ref is not None:
            ax.set_ylim(ref / _RNN_RANGE / 2, ref * _RNN_RANGE * 2)
        ax.set_xlabel("time step t (loss at t = T)")
        ax.set_ylabel("||dL/dh_t||")
        title = f"{act} RNN, hidden {hidden_size}, T = {steps}, inputs N(0, {input_std:g}^2)"
        if missing:
            title += "\n(not available: " + ", ".join(missing) + ")"
        ax.set_title(title, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path, dpi)
