"""Signal-propagation diagnostics: theory where it is exact, the classic cases, RNNs,
plots, recommend and the diagnose command."""
import math

import numpy as np
import pytest

import weightinit as wi
from weightinit.diagnostics import propagate, propagate_rnn, verdict
from weightinit.diagnostics._nn import XAVIER_FAN_IN, ACTIVATIONS, MLP, act_derivative, act_forward
from weightinit import schemes

from _diag_helpers import png_size, one_blas_thread  # noqa: F401  (autouse fixture)

STD1 = schemes.get("normal", std=1.0)
STD001 = schemes.get("normal", std=0.01)


def _layer_ratios(activation, scheme, *, seeds=8, depth=10, width=256, batch=256):
    """Per-layer ratios E[h_l^2] / E[h_{l-1}^2] (l >= 2), all seeds pooled, shape (seeds, depth - 1)."""
    out = []
    for seed in range(seeds):
        m = propagate([width] * (depth + 1), activation, scheme, batch=batch, seed=seed).column("act_second_moment")
        out.append(m[1:] / m[:-1])
    return np.array(out)


# ---- theory ---------------------------------------------------------------------------

def test_he_relu_keeps_activation_second_moment():
    # He (var 2/fan_in) + relu + zero bias: E_W[E h_l^2 | h_{l-1}] = E h_{l-1}^2 exactly.
    # The per-layer ratio fluctuates with std ~0.09 at width 256; 72 pooled ratios give a
    # standard error ~0.011, so the pooled mean must be 1 within 0.05 (> 4 s.e.), and
    # each layer's mean over 8 seeds within 0.15 (> 4 s.e. of 0.032).
    r = _layer_ratios("relu", "he_normal")
    assert abs(r.mean() - 1) < 0.05, f"pooled E[h_l^2]/E[h_(l-1)^2] = {r.mean():.4f}, expected 1 +- 0.05"
    per_layer = r.mean(axis=0)
    assert np.all(np.abs(per_layer - 1) < 0.15), f"per-layer mean ratios {per_layer.round(3)} not within 1 +- 0.15"
    # and layer 1 relative to the N(0, 1) inputs: E h_1^2 = E x^2 = 1
    m1 = [propagate([256, 256], "relu", "he_normal", batch=1000, seed=s).layers[0].act_second_moment for s in range(4)]
    assert abs(np.mean(m1) - 1) < 0.05, f"E[h_1^2] = {np.mean(m1):.4f} for unit-variance inputs, expected 1 +- 0.05"


def test_linear_net_with_unit_gain_fan_in_scheme_keeps_second_moment():
    # He init with the linear gain (1) is variance 1/fan_in (lecun_normal): exact in expectation;
    # per-layer ratio std ~0.012 at width 256 -> pooled mean within 0.01.
    r = _layer_ratios("linear", "lecun_normal")
    assert abs(r.mean() - 1) < 0.01, f"pooled second-moment ratio {r.mean():.5f}, expected 1 +- 0.01"


def test_xavier_relu_halves_second_moment_per_layer():
    # square layers: Xavier var = 1/n, relu keeps half -> ratio 1/2 exactly in expectation
    r = _layer_ratios("relu", "xavier_normal", seeds=4)
    assert abs(r.mean() - 0.5) < 0.03, f"pooled ratio {r.mean():.4f}, expected 0.5 +- 0.03"


@pytest.mark.parametrize("activation", ["tanh", "relu", "linear"])
def test_std_001_vanishes(activation):
    rep = propagate([100] * 6, activation, STD001, batch=1000)
    v = rep.verdict()
    # per-layer std factor is 0.01 * sqrt(100) = 0.1 (times 1/sqrt(2) for relu): 4 layers -> <= 1e-4
    assert v.forward_ratio < 1e-3, f"{activation}: std(h_5)/std(h_1) = {v.forward_ratio:.3g}, expected < 1e-3"
    assert v.status == "vanishing", f"{activation}: verdict {v.status}: {v.reasons}"


def test_std_001_sigmoid_collapses_and_gradients_vanish():
    rep = propagate([100] * 6, "sigmoid", STD001, batch=1000)
    stds = rep.column("act_std")
    assert np.all(stds[1:] < 0.02), f"sigmoid std=0.01: activation std per layer {stds}, expected all < 0.02 (collapse to 0.5)"
    assert np.allclose(rep.column("act_mean"), 0.5, atol=0.01), f"means {rep.column('act_mean')}"
    v = rep.verdict()
    assert v.status == "vanishing" and v.backward_ratio < 1e-4, f"{v}"


def test_std_1_sigmoid_saturates():
    rep = propagate([100] * 6, "sigmoid", STD1, batch=1000)
    sat = rep.column("saturated_fraction")
    # layer 1: z ~ N(0, 100) for N(0, 1) inputs; saturated (h < 0.01 or h > 0.99) iff |z| > ln 99,
    # probability 2 * Phi(-ln(99) / 10) = 0.646
    expected = math.erfc(math.log(99) / 10 / math.sqrt(2))
    assert abs(sat[0] - expected) < 0.02, f"layer-1 saturated fraction {sat[0]:.4f}, theory {expected:.4f} +- 0.02"
    assert np.all(sat > 0.4), f"saturated fraction per layer {sat}, expected > 0.4 in every layer"
    v = rep.verdict()
    assert v.status == "vanishing" and any("saturated" in r for r in v.reasons), f"{v}"


def test_xavier_tanh_is_healthy_and_not_saturated():
    rep = propagate([100] * 6, "tanh", "xavier_normal", batch=1000)
    sat = rep.column("saturated_fraction")
    assert np.all(sat < 0.05), f"Xavier+tanh saturated fraction {sat}, expected < 5%"
    assert rep.verdict().status == "healthy", str(rep.verdict())


def test_std_1_relu_explodes():
    rep = propagate([100] * 6, "relu", STD1, batch=500)
    v = rep.verdict()
    assert v.status == "exploding" and v.forward_ratio > 1e3, f"{v}"


def test_deep_he_relu_healthy_and_deep_xavier_relu_vanishing():
    he = propagate([256] * 21, "relu", "he_normal", batch=500).verdict()
    xa = propagate([256] * 21, "relu", "xavier_normal", batch=500).verdict()
    assert he.status == "healthy", str(he)
    assert xa.status == "vanishing", str(xa)
    # theory for Xavier: std halves in variance per layer -> 2^(-19/2) ~ 1.4e-3 over 19 layers
    assert 3e-4 < xa.forward_ratio < 6e-3, f"Xavier relu depth 20 forward ratio {xa.forward_ratio:.3g}"


def test_reports_are_reproducible_and_seed_dependent():
    a = propagate([50] * 4, "tanh", "xavier_normal", batch=100, seed=3)
    b = propagate([50] * 4, "tanh", "xavier_normal", batch=100, seed=3)
    c = propagate([50] * 4, "tanh", "xavier_normal", batch=100, seed=4)
    assert a.layers == b.layers
    assert a.layers != c.layers


def test_given_inputs_and_weights_are_used():
    x = np.ones((10, 4))
    w = [np.eye(4) * 2.0, np.eye(4) * 3.0]
    rep = propagate([4, 4, 4], "linear", "zeros", inputs=x, weights=w)
    assert rep.layers[0].act_mean == pytest.approx(2.0) and rep.layers[1].act_mean == pytest.approx(6.0)
    assert rep.layers[1].act_std == 0.0
    assert rep.schemes == ({"name": "given"}, {"name": "given"})


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backward_matches_finite_differences(activation):
    rng = np.random.default_rng(0)
    net = MLP([rng.normal(0, 0.7, (5, 4)), rng.normal(0, 0.7, (3, 5))], [rng.normal(0, 0.3, 5), rng.normal(0, 0.3, 3)],
              activation)
    x = rng.normal(size=(6, 4))
    r = rng.normal(size=(6, 3))
    loss = lambda: float(np.sum(net.forward(x)[1][-1] * r))  # noqa: E731
    zs, hs = net.forward(x)
    dws, dbs, _ = net.backward(zs, hs, r)
    eps = 1e-6
    for li, (w, dw) in enumerate(zip(net.weights, dws)):
        num = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + eps
            lp = loss()
            w[idx] = old - eps
            lm = loss()
            w[idx] = old
            num[idx] = (lp - lm) / (2 * eps)
        err = np.max(np.abs(num - dw))
        assert err < 1e-6, f"{activation} layer {li}: max |numeric - backprop| dL/dW = {err:.3g}"


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_derivatives(activation):
    z = np.linspace(-3, 3, 61) + 1e-3
    h = act_forward(activation, z)
    d = act_derivative(activation, z, h)
    num = (act_forward(activation, z + 1e-6) - act_forward(activation, z - 1e-6)) / 2e-6
    assert np.max(np.abs(d - num)) < 1e-6, f"{activation}: derivative off by {np.max(np.abs(d - num)):.3g}"


# ---- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(widths=[10]), ValueError, "widths"),
    (dict(widths=[10, 0]), ValueError, "widths[1]"),
    (dict(widths=[10, 2.5]), TypeError, "widths[1]"),
    (dict(widths=5), TypeError, "widths"),
    (dict(widths=[10, 10], activation="swish"), ValueError, "activation"),
    (dict(widths=[10, 10], activation=3), TypeError, "activation"),
    (dict(widths=[10, 10], scheme=1.5), TypeError, "scheme"),
    (dict(widths=[10, 10, 10], scheme=["he_normal"]), ValueError, "scheme"),
    (dict(widths=[10, 10], scheme="nope"), ValueError, "nope"),
    (dict(widths=[10, 10], batch=0), ValueError, "batch"),
    (dict(widths=[10, 10], inputs=np.zeros((5, 3))), ValueError, "inputs"),
    (dict(widths=[10, 10], input_std=-1.0), ValueError, "input_std"),
])
def test_propagate_rejects_bad_input(kwargs, exc, word):
    with pytest.raises(exc, match=None) as ei:
        propagate(**kwargs)
    assert word in str(ei.value), f"message {ei.value!s} does not name {word}"


def test_verdict_rejects_bad_thresholds_and_types():
    rep = propagate([10, 10], batch=20)
    with pytest.raises(ValueError, match="vanishing_ratio"):
        verdict(rep, vanishing_ratio=2.0)
    with pytest.raises(TypeError, match="report"):
        verdict("not a report")


def test_verdict_thresholds_are_applied_and_stated():
    rep = propagate([100] * 6, "relu", "xavier_normal", batch=500)
    default = rep.verdict()
    strict = rep.verdict(vanishing_ratio=0.5)
    assert default.status == "healthy" and strict.status == "vanishing", (default, strict)
    assert "0.5" in str(strict) and "exploding if > 100" in str(strict)


# ---- RNN ------------------------------------------------------------------------------

def test_rnn_uniform_whh_vanishes_with_tanh_and_explodes_linear():
    u = schemes.get("uniform", low=0.0, high=1.0)
    t = propagate_rnn(16, 64, steps=20, activation="tanh", whh=u, batch=16)
    assert t.verdict().status == "vanishing" and t.grad_norm[0] < 1e-20 * t.grad_norm[-1], t.grad_norm
    assert t.saturated_fraction > 0.9
    lin = propagate_rnn(16, 64, steps=20, activation="linear", whh=u, batch=16)
    assert lin.verdict().status == "exploding" and lin.grad_norm[0] > 1e20 * lin.grad_norm[-1], lin.grad_norm


def test_rnn_xavier_linear_is_healthy():
    rep = propagate_rnn(16, 128, steps=30, activation="linear", whh=XAVIER_FAN_IN, batch=16)
    assert rep.verdict().status == "healthy", str(rep.verdict())
    assert rep.grad_norm.shape == (30,) and rep.hidden_norm.shape == (30,)


def test_rnn_orthogonal_linear_preserves_gradient_norm_exactly():
    rep = propagate_rnn(8, 32, steps=25, activation="linear", whh="orthogonal", batch=8)
    # ||g Whh|| = ||g|| row by row for orthogonal Whh, so every step has the same norm
    np.testing.assert_allclose(rep.grad_norm, rep.grad_norm[-1], rtol=1e-10,
                               err_msg="BPTT gradient norm changes over steps with orthogonal Whh")


def test_rnn_bad_input():
    with pytest.raises(ValueError, match="steps"):
        propagate_rnn(4, 4, steps=0)
    with pytest.raises(TypeError, match="hidden_size"):
        propagate_rnn(4, "8")
    with pytest.raises(ValueError, match="inputs"):
        propagate_rnn(4, 8, steps=3, whh="lecun_normal", inputs=np.zeros((2, 5, 4)))


# ---- recommend ------------------------------------------------------------------------

@pytest.mark.parametrize("activation, layer, name", [
    ("relu", "linear", "he_normal"), ("leaky_relu", "conv", "he_normal"), ("gelu", "linear", "he_normal"),
    ("tanh", "linear", "xavier_normal"), ("sigmoid", "conv", "xavier_normal"), ("selu", "linear", "lecun_normal"),
    ("tanh", "rnn", "orthogonal"), ("tanh", "rnn_input", "variance_scaling"), ("relu", "bias", "zeros"),
])
def test_recommend(activation, layer, name):
    rec = wi.recommend(activation, layer=layer)
    assert rec.name == name, f"recommend({activation!r}, {layer!r}) = {rec.name}, expected {name}"
    assert len(rec.reason) > 30 and rec.reference
    assert rec.scheme == schemes.get(name, **rec.params), f"{rec.scheme!r} is not schemes.get({name!r})"


def test_recommend_bad_input():
    with pytest.raises(ValueError, match="activation"):
        wi.recommend("softsign")
    with pytest.raises(ValueError, match="layer"):
        wi.recommend("relu", layer="attention")
    with pytest.raises(TypeError, match="activation"):
        wi.recommend(None)


# ---- plots ----------------------------------------------------------------------------

def test_activation_histogram_grid_png(tmp_path):
    pytest.importorskip("matplotlib")
    from weightinit.diagnostics import plots
    # a reduced grid (rendering 60 panels takes seconds): 2 activations x 4 inits x 3 layers
    path = plots.plot_activation_histograms(tmp_path / "hist.png", activations=("sigmoid", "relu"), depth=3,
                                            batch=200, dpi=40)
    w, h = png_size(path)
    # figsize (2 * 3 + 1, 1.25 * 8 + 0.8) = (7, 10.8) inches at 40 dpi
    assert (w, h) == (280, 432), f"histogram grid is {w}x{h} px, expected 280x432"


@pytest.mark.slow
def test_classic_activation_histogram_grid_png(tmp_path):
    pytest.importorskip("matplotlib")
    from weightinit.diagnostics import plots
    w, h = png_size(plots.plot_activation_histograms(tmp_path / "hist.png", dpi=40))
    # 12 rows (3 activations x 4 inits) x 5 layers: figsize (11, 15.8) inches at 40 dpi
    assert (w, h) == (440, 632), f"histogram grid is {w}x{h} px, expected 440x632"


def test_std_per_layer_and_rnn_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    from weightinit.diagnostics import plots
    reps = [propagate([64] * 9, "relu", s, batch=100) for s in ("he_normal", "xavier_normal")]
    assert png_size(plots.plot_std_per_layer(tmp_path / "std.png", reps, dpi=50)) == (550, 200)
    p = plots.plot_rnn_gradients(tmp_path / "rnn.png", input_size=8, hidden_size=32, steps=15, batch=8, dpi=50)
    assert png_size(p) == (550, 200)
    with pytest.raises(ValueError, match="reports"):
        plots.plot_std_per_layer(tmp_path / "x.png", [])
    with pytest.raises(TypeError, match="path"):
        plots.plot_std_per_layer(3, reps)


# ---- CLI ------------------------------------------------------------------------------

def test_cli_diagnose_table_verdict_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from weightinit.cli import main
    png = tmp_path / "d.png"
    assert main(["diagnose", "--activation", "relu", "--scheme", "he_normal", "--depth", "6", "--width", "64",
                 "--batch", "200", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "verdict: HEALTHY" in out and "thresholds:" in out, out
    assert len([ln for ln in out.splitlines() if ln.strip()[:2].strip().isdigit()]) >= 6, out
    assert png_size(png) == (880, 320)
    assert main(["diagnose", "--activation", "tanh", "--scheme", "normal", "--param", "std=0.01", "--depth", "5",
                 "--width", "100", "--batch", "200"]) == 0
    assert "verdict: VANISHING" in capsys.readouterr().out
    assert main(["diagnose", "--depth", "0"]) == 2
    assert "--depth" in capsys.readouterr().err


def test_plots_without_matplotlib_raise_a_clear_error(monkeypatch, tmp_path):
    import sys
    from weightinit.diagnostics import plots
    rep = propagate([8, 8], batch=10)
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"weightinit\[plot\]"):
        plots.plot_report(tmp_path / "x.png", rep)
    assert not (tmp_path / "x.png").exists()
