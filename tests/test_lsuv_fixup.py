"""LSUV (numpy core and torch adapter), Fixup, and the RNN recipe."""
import math

import numpy as np
import pytest

from weightinit.diagnostics import fixup, fixup_scale, init_plan_, lsuv, lsuv_mlp, plan, role_of
from weightinit.diagnostics._nn import MLP, per_layer, resolve_scheme
from weightinit import schemes

from _diag_helpers import one_blas_thread  # noqa: F401  (autouse fixture)


@pytest.fixture(scope="module")
def digits():
    sk = pytest.importorskip("sklearn.datasets")
    x = sk.load_digits().data[:512].astype(np.float64)
    return (x - x.mean(0)) / (x.std(0) + 1e-8)


def _bad_mlp(widths, activation, std=0.05):
    return MLP.build(widths, activation, per_layer(schemes.get("normal", std=std), len(widths) - 1, "s"),
                     resolve_scheme("zeros", "b"), seed=1)


def _preacts(net, x):
    return net.forward(x)[0]


# ---- numpy core -----------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_lsuv_mlp_reaches_unit_variance_on_digits(digits, activation):
    net = _bad_mlp([64, 128, 128, 128, 10], activation)
    before = [z.var() for z in _preacts(net, digits)]
    assert max(abs(v - 1) for v in before) > 0.5, f"test needs a badly scaled start, variances {before}"
    rep = lsuv_mlp(net.weights, net.biases, digits, activation, pre_init=None, tol=0.05)
    after = [z.var() for z in _preacts(net, digits)]   # measured independently of the report
    assert all(abs(v - 1) < 0.05 for v in after), f"{activation}: output variances after LSUV {after}"
    assert rep.converged and [r.iterations >= 1 for r in rep.layers] == [True] * 4, rep.table()
    assert [round(r.final_var, 10) for r in rep.layers] == [round(v, 10) for v in after]


def test_lsuv_center_zeroes_channel_means(digits):
    net = _bad_mlp([64, 64, 64], "relu")
    net.biases[0][:] = 3.0
    lsuv_mlp(net.weights, net.biases, digits, "relu", pre_init=None, center=True, tol=0.05)
    for i, z in enumerate(_preacts(net, digits)):
        assert np.max(np.abs(z.mean(0))) < 1e-8, f"layer {i}: channel means up to {np.max(np.abs(z.mean(0))):.3g}"
        assert abs(z.var() - 1) < 0.05, f"layer {i}: variance {z.var():.4f}"


def test_lsuv_orthonormal_pre_init(digits):
    net = _bad_mlp([64, 64, 32], "tanh")
    rep = lsuv_mlp(net.weights, net.biases, digits, "tanh", tol=0.05)
    assert rep.pre_init["name"] == "orthogonal"
    for w, r in zip(net.weights, rep.layers):
        # LSUV multiplies an orthonormal matrix by a scalar: W W^T (or W^T W) = scale^2 I
        g = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(g, r.total_scale ** 2 * np.eye(g.shape[0]), atol=1e-5)


class _Stubborn:
    """A layer whose output ignores scaling: LSUV must stop after max_iter."""
    name = "stubborn"

    def __init__(self):
        self.calls = 0

    def output(self):
        return np.full((4, 3), 5.0) + np.arange(3)

    def scale_(self, factor):
        self.calls += 1


class _Dead:
    name = "dead"

    def output(self):
        return np.zeros((4, 3))

    def scale_(self, factor):
        raise AssertionError("must not scale a zero-variance layer")


def test_lsuv_bounded_iterations_and_warnings():
    s = _Stubborn()
    with pytest.warns(RuntimeWarning, match="stubborn"):
        rep = lsuv([s], max_iter=3, pre_init=None)
    assert s.calls == 3 and rep.layers[0].iterations == 3 and not rep.converged
    with pytest.warns(RuntimeWarning, match="dead"):
        rep = lsuv([_Dead()], pre_init=None)
    assert not rep.layers[0].converged and rep.layers[0].iterations == 0


def test_lsuv_bad_input(digits):
    with pytest.raises(ValueError, match="tol"):
        lsuv([], tol=0)
    with pytest.raises(TypeError, match="max_iter"):
        lsuv([], max_iter=1.5)
    with pytest.raises(TypeError, match="shift_"):
        lsuv([_Stubborn()], center=True, pre_init=None)
    with pytest.raises(ValueError, match="x must have shape"):
        lsuv_mlp([np.zeros((3, 5))], [np.zeros(3)], np.zeros((2, 4)))
    with pytest.raises(ValueError, match="biases"):
        lsuv_mlp([np.zeros((3, 5))], [np.zeros(4)], np.zeros((2, 5)))


# ---- torch ----------------------------------------------------------------------------

def _torch_outputs(model, x, types):
    import torch
    outs = []
    hooks = [m.register_forward_hook(lambda m, i, o: outs.append(o.detach().double())) for m in model.modules()
             if isinstance(m, types)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return outs


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_torch_lsuv_reaches_unit_variance(digits, kind):
    torch = pytest.importorskip("torch")
    from weightinit.torch import lsuv_
    nn = torch.nn
    torch.manual_seed(0)
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 10))
        x = torch.from_numpy(digits.astype(np.float32))
        types = (nn.Linear,)
    else:
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 16, 10))
        x = torch.from_numpy(digits.astype(np.float32)).reshape(-1, 1, 8, 8)
        types = (nn.Linear, nn.Conv2d)
    model.train()
    rep = lsuv_(model, x, pre_init="he_normal", tol=0.05, seed=3)
    assert model.training, "lsuv_ must restore training mode"
    assert all(len(m._forward_hooks) == 0 for m in model.modules()), "lsuv_ left forward hooks behind"
    outs = _torch_outputs(model, x, types)
    vs = [float(o.var(unbiased=False)) for o in outs]
    assert len(vs) == len(rep.layers) == 3
    assert all(abs(v - 1) < 0.05 for v in vs), f"{kind}: layer output variances after lsuv_ {vs}"
    assert rep.converged, rep.table()


def test_torch_lsuv_orthogonal_default_and_errors(digits):
    torch = pytest.importorskip("torch")
    from weightinit.torch import lsuv_
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    x = torch.from_numpy(digits.astype(np.float32))
    with pytest.raises(TypeError, match="model"):
        lsuv_("model", x)
    with pytest.raises(TypeError, match="batch"):
        lsuv_(model, digits)
    rep = lsuv_(model, x, tol=0.05)
    assert rep.converged and rep.pre_init["name"] == "orthogonal"


# ---- Fixup ----------------------------------------------------------------------------

def test_fixup_scale():
    assert fixup_scale(8, 2) == pytest.approx(8 ** -0.5)
    assert fixup_scale(16, 3) == pytest.approx(16 ** -0.25)
    assert fixup_scale(1, 4) == 1.0
    with pytest.raises(ValueError, match="layers_per_branch"):
        fixup_scale(8, 1)
    with pytest.raises(TypeError, match="num_branches"):
        fixup_scale(8.0, 2)


def test_fixup_numpy_zeroes_and_scales_the_right_layers():
    L, m = 6, 3
    branches = [[np.full((32, 32, 3, 3), 7.0) for _ in range(m)] for _ in range(L)]
    clf, clf_b = np.ones((10, 32)), np.ones(10)
    rep = fixup(branches, clf, classifier_bias=clf_b, seed=5)
    s = L ** (-1 / (2 * m - 2))
    assert rep.scale == pytest.approx(s)
    for b, br in enumerate(branches):
        assert not br[-1].any(), f"last layer of branch {b} not zeroed"
        for j in range(m - 1):
            ref = schemes.get("he_normal").init_(np.empty((32, 32, 3, 3)), seed=5, stream=f"fixup.branch{b}.layer{j}")
            np.testing.assert_array_equal(br[j], ref * s, err_msg=f"branch {b} layer {j} is not He * L^(-1/(2m-2))")
    assert not clf.any() and not clf_b.any()
    assert rep.zeroed[-2:] == ("classifier", "classifier_bias") and len(rep.scaled) == L * (m - 1)
    # the He std over the inner layers, scaled: sqrt(2 / (32 * 9)) * s
    inner = np.concatenate([br[j].ravel() for br in branches for j in range(m - 1)])
    assert abs(inner.std() / (math.sqrt(2 / 288) * s) - 1) < 0.03, f"inner std {inner.std():.5f}"


def test_fixup_bad_input():
    with pytest.raises(ValueError, match="same number"):
        fixup([[np.zeros((2, 2))] * 2, [np.zeros((2, 2))] * 3])
    with pytest.raises(ValueError, match="at least one"):
        fixup([])
    with pytest.raises(TypeError, match=r"branches\[0\]\[1\]"):
        fixup([[np.zeros((2, 2)), [1, 2]]])


def test_torch_fixup():
    torch = pytest.importorskip("torch")
    from weightinit.torch import fixup_
    nn = torch.nn
    branches = [nn.Sequential(nn.Conv2d(16, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.Conv2d(16, 16, 3))
                for _ in range(4)]
    clf = nn.Linear(16, 10)
    rep = fixup_(branches, clf, seed=2)
    assert rep.scale == pytest.approx(4 ** -0.5) and rep.layers_per_branch == 2
    for b, br in enumerate(branches):
        assert torch.count_nonzero(br[3].weight) == 0 and torch.count_nonzero(br[3].bias) == 0
        ref = schemes.get("he_normal").init_(np.empty((16, 16, 3, 3), np.float32), seed=2,
                                             stream=f"fixup.branch{b}.layer0.weight")
        np.testing.assert_allclose(br[0].weight.detach().numpy(), ref * np.float32(0.5), rtol=1e-6)
        assert torch.all(br[1].weight == 1), "BatchNorm weight must be left alone"
    assert torch.count_nonzero(clf.weight) == 0 and torch.count_nonzero(clf.bias) == 0
    with pytest.raises(ValueError, match="same number"):
        fixup_([nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), nn.Sequential(nn.Linear(2, 2))])
    with pytest.raises(TypeError, match="classifier"):
        fixup_(branches, classifier="fc")


# ---- RNN recipe -----------------------------------------------------------------------

def test_rnn_plan_roles_and_init():
    p = plan("rnn")
    assert set(p) == {"Wxh", "Whh", "Why", "bh", "by"}
    assert schemes.from_dict(p["Wxh"]) == schemes.from_dict(p["Why"]) == schemes.get(
        "variance_scaling", scale=1.0, mode="fan_in", distribution="normal")
    assert schemes.from_dict(p["Whh"]) == schemes.get("orthogonal")
    assert p["bh"] == p["by"] == {"name": "zeros"}
    assert [role_of(n) for n in ("rnn.weight_ih_l0", "lstm.weight_hh_l1_reverse", "Why", "rnn.bias_hh_l0", "fc.x")] \
        == ["Wxh", "Whh", "Why", "bh", None]
    arrays = {"rnn.weight_ih_l0": np.empty((256, 64)), "rnn.bias_ih_l0": np.ones(256), "Why": np.empty((10, 256))}
    roles = init_plan_(p, arrays, seed=0)
    assert roles == {"rnn.weight_ih_l0": "Wxh", "rnn.bias_ih_l0": "bh", "Why": "Why"}
    assert not arrays["rnn.bias_ih_l0"].any()
    assert abs(arrays["rnn.weight_ih_l0"].var() * 64 - 1) < 0.05, "Wxh variance must be 1/fan_in"
    assert abs(arrays["Why"].var() * 256 - 1) < 0.1, "Why variance must be 1/fan_in"
    with pytest.raises(ValueError, match="name"):
        plan("transformer")
    with pytest.raises(ValueError, match="fc.x"):
        init_plan_(p, {"fc.x": np.empty(3)}, seed=0)


def test_rnn_plan_orthogonal_whh():
    whh = np.empty((64, 64))
    init_plan_(plan("rnn"), {"rnn.weight_hh_l0": whh}, seed=0)
    np.testing.assert_allclose(whh @ whh.T, np.eye(64), atol=1e-10)


def test_rnn_plan_drives_the_checkpoint_writer(tmp_path):
    """The plan's scheme dicts go straight into a checkpoint spec; the file holds
    the same bits as init_plan_ in memory (each tensor's stream is its name)."""
    safetensors = pytest.importorskip("safetensors.numpy")
    from weightinit import create_checkpoint

    p = plan("rnn")
    shapes = {"rnn.weight_ih_l0": (128, 32), "rnn.weight_hh_l0": (128, 128), "rnn.bias_ih_l0": (128,),
              "Why": (10, 128), "by": (10,)}
    spec = {"seed": 11, "dtype": "float32",
            "tensors": [{"name": n, "shape": list(s), "scheme": p[role_of(n)]} for n, s in shapes.items()]}
    path = tmp_path / "rnn.safetensors"
    create_checkpoint(spec, path, progress=False)
    arrays = {n: np.empty(s, np.float32) for n, s in shapes.items()}
    init_plan_(p, arrays, seed=11)
    stored = safetensors.load_file(str(path))
    for n, a in arrays.items():
        assert np.array_equal(stored[n], a), n
