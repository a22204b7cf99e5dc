"""weightinit.torch against torch.nn.init: the same kinds of checks as PyTorch's own
init tests (test/nn/test_init.py), plus reproducibility, in-place writes and init_module_."""
import inspect
import math
import warnings

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")
import torch.nn as nn  # noqa: E402
import torch.nn.init as tinit  # noqa: E402

import weightinit  # noqa: E402
import weightinit.torch as init  # noqa: E402
from weightinit import initializers as I  # noqa: E402

ALPHA = 1e-3
FLOATS = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def ks(t, dist, args, what):
    x = t.detach().double().flatten().numpy()
    res = stats.kstest(x, dist, args=args)
    assert res.pvalue > ALPHA, f"{what}: KS statistic {res.statistic:.4g}, p={res.pvalue:.3g} vs {dist}{args}"


def gen(seed):
    return torch.Generator().manual_seed(seed)


def random_shape(rng, dims):
    return tuple(int(rng.integers(8, 24)) for _ in range(dims))


# ------------------------------------------------------------ API surface

def test_same_names_signatures_and_defaults_as_torch():
    for name in tinit.__all__:
        ours, theirs = getattr(init, name), getattr(tinit, name)
        if name.endswith("_") or name == "calculate_gain":
            p_ours = [(p.name, p.default) for p in inspect.signature(ours).parameters.values()]
            p_theirs = [(p.name, p.default) for p in inspect.signature(theirs).parameters.values()]
            assert p_ours == p_theirs, name


@pytest.mark.parametrize("name", ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform",
                                  "xavier_normal", "kaiming_uniform", "kaiming_normal", "sparse"])
def test_deprecated_aliases_warn_and_work(name):
    args = {"constant": (0.5,), "sparse": (0.1,)}.get(name, ())
    t = torch.zeros(4, 4, 3) if name == "dirac" else torch.zeros(8, 8)
    with pytest.warns(FutureWarning, match=f"{name}_"):
        getattr(init, name)(t, *args)
    assert t.any()


# ------------------------------------------------------------ calculate_gain, fans

@pytest.mark.parametrize("name", ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu",
                                  "leaky_relu", "selu"])
def test_calculate_gain_matches_torch(name):
    assert init.calculate_gain(name) == pytest.approx(tinit.calculate_gain(name), rel=1e-15)


@pytest.mark.parametrize("slope", [0, 0.01, 0.3, 1, 4])
def test_calculate_gain_leaky_relu_matches_torch(slope):
    assert init.calculate_gain("leaky_relu", slope) == pytest.approx(tinit.calculate_gain("leaky_relu", slope))


@pytest.mark.parametrize("bad", [True, [1], {"a": 1}, "0.2"])
def test_calculate_gain_leaky_relu_only_accepts_numbers(bad):
    for mod in (init, tinit):
        with pytest.raises(ValueError):
            mod.calculate_gain("leaky_relu", bad)


@pytest.mark.parametrize("bad", ["relu6", "gelu", "Linear"])
def test_calculate_gain_only_accepts_valid_nonlinearities(bad):
    for mod in (init, tinit):
        with pytest.raises(ValueError):
            mod.calculate_gain(bad)


@pytest.mark.parametrize("shape", [(5, 3), (7, 3, 5), (4, 6, 3, 2), (2, 3, 4, 5, 6), (1, 9)])
def test_fans_match_torch(shape):
    from weightinit import compute_fans
    assert compute_fans(shape) == tinit._calculate_fan_in_and_fan_out(torch.empty(shape))


# ------------------------------------------------------------ distributions

@pytest.mark.parametrize("dims", [1, 2, 4])
def test_uniform(dims):
    rng = np.random.default_rng(dims)
    t = torch.empty(random_shape(rng, dims) if dims > 1 else (2000,))
    init.uniform_(t, a=-1.5, b=2.5)
    assert -1.5 <= t.min() and t.max() < 2.5
    ks(t, "uniform", (-1.5, 4.0), f"uniform_ {tuple(t.shape)}")


@pytest.mark.parametrize("dims", [1, 2, 4])
def test_normal(dims):
    rng = np.random.default_rng(10 + dims)
    t = torch.empty(random_shape(rng, dims) if dims > 1 else (2000,))
    init.normal_(t, mean=0.5, std=2.0)
    ks(t, "norm", (0.5, 2.0), f"normal_ {tuple(t.shape)}")


@pytest.mark.parametrize("mean, std, a, b", [(0, 1, -2, 2), (1, 2, 0, 1), (0, 1, 3, 6), (0, 0.02, -0.04, 0.04)])
def test_trunc_normal(mean, std, a, b):
    t = init.trunc_normal_(torch.empty(60, 50), mean, std, a, b, generator=gen(1))
    assert a <= t.min() and t.max() <= b
    ks(t, "truncnorm", ((a - mean) / std, (b - mean) / std, mean, std), f"trunc_normal_ {(mean, std, a, b)}")


@pytest.mark.parametrize("dtype", FLOATS)
def test_trunc_normal_low_precision_stays_inside_and_off_the_bounds(dtype):
    t = init.trunc_normal_(torch.empty(20000, dtype=dtype), generator=gen(2))
    assert t.min() >= -2 and t.max() <= 2
    at_bound = int((t.abs() == 2).sum())
    assert at_bound < 20, f"{at_bound} of 20000 {dtype} samples sit on the bounds ±2"


def test_constant_ones_zeros():
    t = torch.empty(3, 4, 5)
    assert torch.equal(init.constant_(t, 0.25), torch.full_like(t, 0.25))
    assert torch.equal(init.ones_(t), torch.ones_like(t))
    assert torch.equal(init.zeros_(t), torch.zeros_like(t))


def test_eye():
    for shape in [(4, 7), (7, 4), (5, 5)]:
        assert torch.equal(init.eye_(torch.empty(shape)), torch.eye(*shape))


def test_eye_only_works_on_2d_inputs():
    for shape in [(3,), (3, 4, 5)]:
        with pytest.raises(ValueError, match="2 dimensions"):
            init.eye_(torch.empty(shape))


@pytest.mark.parametrize("dims, groups", [(3, 1), (4, 1), (5, 1), (4, 2), (5, 3)])
def test_dirac_properties_match_torch(dims, groups):
    shape = (groups * 4, 3) + (3,) * (dims - 2)
    assert torch.equal(init.dirac_(torch.empty(shape), groups), tinit.dirac_(torch.empty(shape), groups))


def test_dirac_identity():
    batch, in_c, out_c, size = 8, 6, 4, 5
    x = torch.randn(batch, in_c, size, size, generator=gen(3))
    w = init.dirac_(torch.empty(out_c, in_c, 3, 3))
    y = torch.nn.functional.conv2d(x, w, padding=1)
    assert torch.equal(y, x[:, :out_c])
    w = init.dirac_(torch.empty(out_c * 2, in_c, 3, 3), groups=2)
    y = torch.nn.functional.conv2d(torch.cat([x, x], 1), w, padding=1, groups=2)
    assert torch.equal(y[:, :out_c], x[:, :out_c]) and torch.equal(y[:, out_c:], x[:, :out_c])


def test_dirac_only_works_on_3_4_5d_inputs():
    for shape in [(3,), (3, 4), (2, 3, 4, 5, 6, 7)]:
        with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
            init.dirac_(torch.empty(shape))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(torch.empty(6, 2, 3), 4)


@pytest.mark.parametrize("fn", [init.xavier_uniform_, init.xavier_normal_,
                                init.kaiming_uniform_, init.kaiming_normal_])
def test_fan_based_errors_on_inputs_smaller_than_2d(fn):
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        fn(torch.empty(5))


@pytest.mark.parametrize("dims", [2, 3, 4])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_xavier_uniform_and_normal(dims, gain):
    rng = np.random.default_rng(dims)
    shape = random_shape(rng, dims)
    fan_in, fan_out = shape[1] * math.prod(shape[2:]), shape[0] * math.prod(shape[2:])
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    u = init.xavier_uniform_(torch.empty(shape), gain=gain)
    ks(u, "uniform", (-math.sqrt(3) * std, 2 * math.sqrt(3) * std), f"xavier_uniform_ {shape}")
    n = init.xavier_normal_(torch.empty(shape), gain=gain)
    ks(n, "norm", (0, std), f"xavier_normal_ {shape}")


@pytest.mark.parametrize("dims", [2, 4])
@pytest.mark.parametrize("a", [0, 1])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "FAN_OUT"])
def test_kaiming_uniform_and_normal(dims, a, mode):
    rng = np.random.default_rng(dims + 7 * a)
    shape = random_shape(rng, dims)
    fan = (shape[1] if mode == "fan_in" else shape[0]) * math.prod(shape[2:])
    std = math.sqrt(2 / (1 + a * a)) / math.sqrt(fan)
    u = init.kaiming_uniform_(torch.empty(shape), a=a, mode=mode)
    ks(u, "uniform", (-math.sqrt(3) * std, 2 * math.sqrt(3) * std), f"kaiming_uniform_ {shape} a={a} {mode}")
    n = init.kaiming_normal_(torch.empty(shape), a=a, mode=mode)
    ks(n, "norm", (0, std), f"kaiming_normal_ {shape} a={a} {mode}")


def test_kaiming_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(torch.empty(3, 4), mode="fan_avg")


@pytest.mark.parametrize("fn", [init.kaiming_uniform_, init.kaiming_normal_,
                                init.xavier_uniform_, init.xavier_normal_])
def test_warning_on_0element(fn):
    t = torch.empty(0, 1)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert fn(t) is t


def test_sparse_only_works_on_2d_inputs():
    for shape in [(3,), (3, 4, 5)]:
        with pytest.raises(ValueError, match="2 dimensions"):
            init.sparse_(torch.empty(shape), 0.1)


@pytest.mark.parametrize("sparsity, std", [(0.1, 0.01), (0.5, 0.2), (0.93, 1.0)])
def test_sparse(sparsity, std):
    rows, cols = 40, 60
    t = init.sparse_(torch.empty(rows, cols), sparsity, std)
    zeros = (t == 0).sum(0)
    assert torch.equal(zeros, torch.full((cols,), math.ceil(sparsity * rows)))
    ks(t[t != 0], "norm", (0, std), f"sparse_ nonzeros sparsity={sparsity}")


def test_orthogonal():
    t = torch.empty(8, 3, 4)
    init.orthogonal_(t, gain=2.0)
    flat = t.reshape(8, 12)
    torch.testing.assert_close(flat @ flat.T, 4 * torch.eye(8), atol=1e-5, rtol=0)


def test_orthogonal_rejects_1d():
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(torch.empty(5))


# ------------------------------------------------------------ generators and seeds

RANDOM_CALLS = [
    lambda t, g=None: init.uniform_(t, -1, 1, generator=g),
    lambda t, g=None: init.normal_(t, 0, 2, generator=g),
    lambda t, g=None: init.trunc_normal_(t, generator=g),
    lambda t, g=None: init.xavier_uniform_(t, generator=g),
    lambda t, g=None: init.xavier_normal_(t, generator=g),
    lambda t, g=None: init.kaiming_uniform_(t, generator=g),
    lambda t, g=None: init.kaiming_normal_(t, generator=g),
    lambda t, g=None: init.sparse_(t, 0.3, generator=g),
]


@pytest.mark.parametrize("call", RANDOM_CALLS)
def test_generator_determines_the_result(call):
    a = call(torch.empty(30, 20), gen(5))
    b = call(torch.empty(30, 20), gen(5))
    c = call(torch.empty(30, 20), gen(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("call", RANDOM_CALLS)
def test_global_seed_equals_a_generator_with_that_seed(call):
    torch.manual_seed(42)
    a = call(torch.empty(30, 20))
    b = call(torch.empty(30, 20), gen(42))
    assert torch.equal(a, b)


def test_each_call_advances_the_generator():
    g = gen(7)
    before = g.get_state()
    a = init.normal_(torch.empty(100), generator=g)
    assert not torch.equal(g.get_state(), before)
    b = init.normal_(torch.empty(100), generator=g)
    assert not torch.equal(a, b)
    # by one 64-bit seed, whatever the size: as drawing it directly
    g1, g2 = gen(8), gen(8)
    init.normal_(torch.empty(1000), generator=g1)
    init.seed_from_generator(g2)
    assert torch.equal(g1.get_state(), g2.get_state())


def test_deterministic_calls_do_not_touch_the_generator():
    torch.manual_seed(3)
    state = torch.get_rng_state()
    init.ones_(torch.empty(3))
    init.eye_(torch.empty(3, 3))
    init.dirac_(torch.empty(3, 3, 3))
    assert torch.equal(torch.get_rng_state(), state)


NP_DTYPES = {torch.float16: np.float16, torch.bfloat16: "bfloat16", torch.float32: np.float32,
             torch.float64: np.float64}


@pytest.mark.parametrize("dtype", FLOATS)
def test_values_equal_the_numpy_initializer_with_the_drawn_seed(dtype):
    import ml_dtypes
    seed = init.seed_from_generator(gen(9))
    t = init.kaiming_normal_(torch.empty(30, 20, dtype=dtype), nonlinearity="relu", generator=gen(9))
    np_dtype = ml_dtypes.bfloat16 if dtype == torch.bfloat16 else NP_DTYPES[dtype]
    w = I.kaiming_normal_(np.empty((30, 20), np_dtype), nonlinearity="relu", seed=seed)
    bits = t.view(torch.int16) if dtype == torch.bfloat16 else t
    assert bits.numpy().tobytes() == w.tobytes()


# ------------------------------------------------------------ tensors

@pytest.mark.parametrize("dtype", FLOATS)
def test_in_place_without_copy(dtype):
    t = torch.empty(50, 40, dtype=dtype)
    ptr = t.data_ptr()
    out = init.xavier_uniform_(t, generator=gen(1))
    assert out is t and t.data_ptr() == ptr and t.dtype == dtype
    b = math.sqrt(6 / 90)
    assert t.abs().max() <= b
    ks(t, "uniform", (-b, 2 * b), f"xavier_uniform_ in {dtype}")


@pytest.mark.parametrize("dtype", FLOATS)
def test_non_contiguous_views(dtype):
    base = torch.zeros(20, 30, dtype=dtype)
    view = base[:, 5:15]
    init.normal_(view, generator=gen(4))
    assert torch.equal(view, init.normal_(torch.empty(20, 10, dtype=dtype), generator=gen(4)))
    assert not base[:, :5].any() and not base[:, 15:].any()
    tr = torch.zeros(30, 20, dtype=dtype).T  # transposed view
    init.kaiming_uniform_(tr, generator=gen(4))
    assert torch.equal(tr, init.kaiming_uniform_(torch.empty(20, 30, dtype=dtype), generator=gen(4)))


def test_parameters_with_requires_grad():
    p = nn.Parameter(torch.empty(10, 10))
    init.kaiming_normal_(p)
    assert p.requires_grad and p.grad_fn is None and p.is_leaf


def test_unsupported_dtype():
    with pytest.raises(TypeError, match="dtype"):
        init.normal_(torch.empty(3, dtype=torch.int32))
    with pytest.raises(TypeError, match="torch.Tensor"):
        init.normal_(np.empty(3))


def test_bad_values_write_nothing():
    t = torch.zeros(4, 4)
    with pytest.raises(ValueError, match="std"):
        init.normal_(t, std=-1.0)
    with pytest.raises(ValueError, match="high must be greater than low"):
        init.uniform_(t, 2.0, 1.0)
    with pytest.raises(ValueError, match="nonlinearity"):
        init.kaiming_uniform_(t, nonlinearity="swish")
    assert not t.any()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensors_are_filled_on_the_cpu_and_copied():
    t = torch.empty(64, 32, device="cuda")
    init.kaiming_uniform_(t, generator=gen(3))
    assert t.device.type == "cuda"
    assert torch.equal(t.cpu(), init.kaiming_uniform_(torch.empty(64, 32), generator=gen(3)))


# ------------------------------------------------------------ init_module_

class Block(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.ln = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d, bias=False)


def small_model():
    return nn.ModuleDict({
        "emb": nn.Embedding(50, 16, padding_idx=1),
        "conv": nn.Conv2d(3, 8, 3),
        "tconv": nn.ConvTranspose1d(4, 6, 5),
        "bn": nn.BatchNorm1d(16),
        "layers": nn.ModuleList([Block(), Block()]),
        "rms": nn.RMSNorm(16),
        "head": nn.Linear(16, 50),
    })


def state(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_init_module_is_reproducible_and_seeded():
    a, b, c = small_model(), small_model(), small_model()
    init.init_module_(a, seed=1)
    init.init_module_(b, seed=1, threads=1)
    init.init_module_(c, seed=2)
    sa, sb, sc = state(a), state(b), state(c)
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["head.weight"], sc["head.weight"])


def test_init_module_uses_qualified_names_not_module_order():
    m = small_model()
    reordered = nn.ModuleDict(dict(reversed(list(small_model().items()))))
    init.init_module_(m, seed=3)
    init.init_module_(reordered, seed=3)
    sm, sr = state(m), state(reordered)
    assert sm.keys() == sr.keys() and all(torch.equal(sm[k], sr[k]) for k in sm)
    # the stream is the qualified name: equal to initializing that tensor alone
    w = I.kaiming_uniform_(np.empty((64, 16), np.float32), a=math.sqrt(5), seed=3, stream="layers.0.fc.weight")
    np.testing.assert_array_equal(sm["layers.0.fc.weight"].numpy(), w)


def test_init_module_adding_a_layer_keeps_the_others():
    m = small_model()
    bigger = small_model()
    bigger["extra"] = nn.Linear(16, 16)
    init.init_module_(m, seed=4)
    init.init_module_(bigger, seed=4)
    sm, sb = state(m), state(bigger)
    assert all(torch.equal(sm[k], sb[k]) for k in sm)


def test_init_module_defaults_per_layer_type():
    m = init.init_module_(small_model(), seed=5)
    for name, lin, fan_in in [("head", m["head"], 16), ("layers.0.fc", m["layers"][0].fc, 16),
                              ("conv", m["conv"], 27), ("tconv", m["tconv"], 30)]:
        bound = 1 / math.sqrt(fan_in)
        assert lin.weight.abs().max() <= bound
        ks(lin.weight, "uniform", (-bound, 2 * bound), f"{name}.weight")
        assert 0 < lin.bias.abs().max() <= bound
    emb = m["emb"].weight
    assert not emb[1].any()
    ks(torch.cat([emb[:1], emb[2:]]), "norm", (0, 1), "Embedding.weight")
    for norm in (m["bn"], m["layers"][0].ln, m["rms"]):
        assert torch.equal(norm.weight, torch.ones_like(norm.weight))
        if getattr(norm, "bias", None) is not None:
            assert not norm.bias.any()
    assert m["layers"][1].proj.bias is None


def test_init_module_batchnorm_running_stats_are_reset():
    bn = nn.BatchNorm1d(4)
    bn(torch.randn(8, 4, generator=gen(0)) + 3)
    init.init_module_(bn)
    assert not bn.running_mean.any() and torch.equal(bn.running_var, torch.ones(4))


def test_init_module_multihead_attention():
    mha = init.init_module_(nn.MultiheadAttention(16, 4), seed=6)
    assert not mha.in_proj_bias.any() and not mha.out_proj.bias.any()
    b = math.sqrt(6 / (48 + 16))
    ks(mha.in_proj_weight, "uniform", (-b, 2 * b), "MultiheadAttention.in_proj_weight")


def test_init_module_tied_weights_are_initialized_once():
    emb, head = nn.Embedding(30, 8), nn.Linear(8, 30, bias=False)
    head.weight = emb.weight
    m = nn.ModuleDict({"emb": emb, "head": head})
    init.init_module_(m, seed=7)
    assert m["emb"].weight is m["head"].weight
    ks(m["emb"].weight, "norm", (0, 1), "tied embedding weight")


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.empty(6))
        self.inner = nn.Linear(6, 6)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.normal_(self.scale)


class NoReset(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(3))


def test_init_module_replays_custom_reset_parameters_and_warns_when_nothing_writes():
    a, b = Custom(), Custom()
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # replayed on weightinit streams: no fallback warning
        init.init_module_(a, seed=8)
        init.init_module_(b, seed=8, threads=1)
    assert torch.equal(a.scale, b.scale) and torch.equal(a.inner.weight, b.inner.weight)
    # Custom.reset_parameters draws normal_(scale): the stream is the qualified name
    np.testing.assert_array_equal(a.scale.detach().numpy(),
                                  weightinit.normal_(np.empty(6, np.float32), seed=8, stream="scale"))
    state = torch.get_rng_state()
    init.init_module_(a, seed=9)
    assert torch.equal(torch.get_rng_state(), state)   # torch's RNG is not touched
    n = NoReset()
    with pytest.warns(UserWarning, match="left unchanged"):
        init.init_module_(n)
    assert not n.w.any()


def test_init_module_rejects_non_modules():
    with pytest.raises(TypeError, match="module"):
        init.init_module_(torch.empty(3))


def test_constant_ones_zeros_accept_any_dtype_like_torch():
    t = torch.empty(5, dtype=torch.int32)
    assert torch.equal(init.constant_(t, 3), torch.full((5,), 3, dtype=torch.int32))
    assert torch.equal(init.zeros_(t), torch.zeros(5, dtype=torch.int32))
    assert torch.equal(init.ones_(t), torch.ones(5, dtype=torch.int32))
