"""weightinit.torch on negative views (``torch._neg_view``, ``is_neg()``) and conjugate
views (``z.conj()``, ``is_conj()``), issue 24: as torch.nn.init, the initializer writes
through the view, so that the view reads the values and its base their negatives or
conjugates."""
import warnings

import pytest

torch = pytest.importorskip("torch")

import weightinit.torch as init  # noqa: E402
from weightinit import schemes  # noqa: E402

REAL = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.float8_e4m3fn, torch.float8_e5m2]
FLOAT8 = (torch.float8_e4m3fn, torch.float8_e5m2)
COMPLEX = [torch.complex64, torch.complex128]

# (name, positional arguments, shape, draws from a generator)
INITS = [
    ("uniform_", (-0.5, 2.0), (6, 5), True),
    ("normal_", (0.25, 2.0), (6, 5), True),
    ("trunc_normal_", (0.0, 1.0, -1.0, 1.5), (6, 5), True),
    ("constant_", (0.75,), (6, 5), False),
    ("ones_", (), (6, 5), False),
    ("zeros_", (), (6, 5), False),
    ("eye_", (), (6, 5), False),
    ("dirac_", (2,), (4, 3, 3), False),
    ("xavier_uniform_", (1.5,), (6, 5), True),
    ("xavier_normal_", (1.5,), (6, 5), True),
    ("kaiming_uniform_", (0.1,), (6, 5), True),
    ("kaiming_normal_", (0.1,), (6, 5), True),
    ("orthogonal_", (2.0,), (6, 5), True),
    ("sparse_", (0.3, 0.5), (6, 5), True),
    ("apply_scheme_", (schemes.Normal(1.0, 0.5), 5, "w"), (6, 5), False),   # seed and stream given
]
# the deprecated aliases (FutureWarning), same table layout
DEPRECATED = [("uniform", (), (6, 5), True), ("normal", (), (6, 5), True), ("constant", (0.5,), (6, 5), False),
              ("eye", (), (6, 5), False), ("dirac", (), (4, 3, 3), False), ("xavier_uniform", (), (6, 5), True),
              ("xavier_normal", (), (6, 5), True), ("kaiming_uniform", (), (6, 5), True),
              ("kaiming_normal", (), (6, 5), True), ("orthogonal", (), (6, 5), True),
              ("sparse", (0.5,), (6, 5), True)]


def test_every_public_initializer_is_covered():
    covered = {n for n, *_ in INITS} | {n for n, *_ in DEPRECATED}
    not_initializers = {"calculate_gain", "seed_from_generator"}
    assert set(init.functional.__all__) - not_initializers == covered


def _call(name, view, args, draws, seed=11):
    """Call initializer `name` on `view`; the generator it drew from (seeded with `seed`)."""
    g = torch.Generator().manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)        # the deprecated aliases
        getattr(init, name)(view, *args, **({"generator": g} if draws else {}))
    return g


def _values(t):
    """(values as float64 / complex128, sign bits) of a real or complex tensor."""
    wide = t.to(torch.complex128 if t.is_complex() else torch.float64)
    return wide, torch.signbit(torch.view_as_real(wide) if wide.is_complex() else wide)


def _assert_holds(base, expected, signs=True):
    got, got_sign = _values(base)
    want, want_sign = _values(expected)
    assert torch.equal(got, want)
    if signs:   # -0.0 where the view reads +0.0, as torch's copy_ writes it
        assert torch.equal(got_sign, want_sign)


def _plain(name, args, shape, dtype, draws):
    """What the initializer writes into a plain tensor (the same generator state)."""
    t = torch.zeros(shape, dtype=dtype)
    return t, _call(name, t, args, draws)


def _negated(t):
    if t.dtype in FLOAT8:   # torch has no float8 negation; -x in float32 is exact for float8 values
        return -t.float()
    return -t


@pytest.mark.parametrize("dtype", REAL, ids=str)
@pytest.mark.parametrize("name,args,shape,draws", INITS, ids=[c[0] for c in INITS])
def test_negative_view_base_holds_the_negated_values(name, args, shape, draws, dtype):
    base = torch.zeros(shape, dtype=dtype)
    view = torch._neg_view(base)
    assert view.is_neg()
    version = base._version
    g = _call(name, view, args, draws)
    plain, g_plain = _plain(name, args, shape, dtype, draws)
    _assert_holds(base, _negated(plain))
    assert torch.equal(g.get_state(), g_plain.get_state())   # drew what the plain call draws
    assert base._version > version                           # autograd sees the write
    if not draws and dtype not in FLOAT8 and name != "apply_scheme_":
        # deterministic: exactly what torch.nn.init leaves in the base (torch cannot write float8 ones)
        ref = torch.zeros(shape, dtype=dtype)
        getattr(torch.nn.init, name)(torch._neg_view(ref), *args)
        _assert_holds(base, ref)


@pytest.mark.parametrize("name,args,shape,draws", DEPRECATED, ids=[c[0] for c in DEPRECATED])
def test_deprecated_aliases_on_negative_and_conjugate_views(name, args, shape, draws):
    base = torch.zeros(shape)
    _call(name, torch._neg_view(base), args, draws)
    _assert_holds(base, _negated(_plain(name, args, shape, torch.float32, draws)[0]))
    base = torch.zeros(shape, dtype=torch.complex64)
    _call(name, base.conj(), args, draws)
    _assert_holds(base, _plain(name, args, shape, torch.complex64, draws)[0].conj().resolve_conj())


@pytest.mark.parametrize("dtype", REAL, ids=str)
def test_strided_negative_view(dtype):
    base = torch.zeros(5, 8, dtype=dtype)
    view = torch._neg_view(base).t()[:, ::2]       # (8, 3): transposed, every other column
    assert view.is_neg() and not view.is_contiguous()
    g = torch.Generator().manual_seed(3)
    init.normal_(view, 1.0, 0.5, generator=g)
    plain = torch.zeros(view.shape, dtype=dtype)
    init.normal_(plain, 1.0, 0.5, generator=torch.Generator().manual_seed(3))
    _assert_holds(base.t()[:, ::2], _negated(plain))
    assert not base.t()[:, 1::2].float().any()     # the columns between are untouched


def _conj_views(dtype, shape):
    """(kind, base, view): a conjugate view, a negative view and both, of complex zeros."""
    out = []
    for kind in ("conj", "neg", "neg-conj"):
        base = torch.zeros(shape, dtype=dtype)
        view = {"conj": base.conj(), "neg": torch._neg_view(base),
                "neg-conj": torch._neg_view(base.conj())}[kind]
        out.append((kind, base, view))
    return out


def _expected_complex(kind, plain):
    return {"conj": plain.conj(), "neg": -plain, "neg-conj": -plain.conj()}[kind].resolve_conj().resolve_neg()


COMPLEX_INITS = [c for c in INITS if c[0] != "trunc_normal_"]


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
@pytest.mark.parametrize("name,args,shape,draws", COMPLEX_INITS, ids=[c[0] for c in COMPLEX_INITS])
def test_conjugate_and_negative_complex_views(name, args, shape, draws, dtype):
    for kind, base, view in _conj_views(dtype, shape):
        assert view.is_conj() == ("conj" in kind) and view.is_neg() == ("neg" in kind)
        g = _call(name, view, args, draws)
        plain, g_plain = _plain(name, args, shape, dtype, draws)
        assert plain.imag.any() == (name not in ("constant_", "ones_", "zeros_", "eye_", "dirac_"))
        # zero signs of complex negative views are not checked: torch's own zero_, copy_ and
        # indexed writes disagree on them (dirac_'s -0.0 imaginary parts, for one)
        _assert_holds(base, _expected_complex(kind, plain), signs=kind == "conj")
        assert torch.equal(g.get_state(), g_plain.get_state())
        if not draws and name != "apply_scheme_":
            ref = torch.zeros(shape, dtype=dtype)
            ref_view = {"conj": ref.conj(), "neg": torch._neg_view(ref), "neg-conj": torch._neg_view(ref.conj())}[kind]
            getattr(torch.nn.init, name)(ref_view, *args)
            _assert_holds(base, ref, signs=kind == "conj")


@pytest.mark.parametrize("dtype", COMPLEX, ids=str)
def test_trunc_normal_refuses_a_conjugate_view_as_a_complex_tensor(dtype):
    base = torch.zeros(4, 4, dtype=dtype)
    with pytest.raises(TypeError, match="complex"):
        init.trunc_normal_(base.conj())
    assert not base.any()


@pytest.mark.parametrize("name", ["constant_", "ones_", "zeros_"])
def test_float8_negative_view_where_torch_itself_raises(name):
    """torch.nn.init's fill_ has no float8 negation; weightinit writes what the other
    dtypes get: the base holds the negated value (-0.0 for zeros)."""
    args = (0.3,) if name == "constant_" else ()
    for dtype in FLOAT8:
        with pytest.raises(NotImplementedError):
            getattr(torch.nn.init, name)(torch._neg_view(torch.zeros(3, dtype=dtype)), *args)
        base = torch.zeros(3, dtype=dtype)
        getattr(init, name)(torch._neg_view(base), *args)
        plain = getattr(init, name)(torch.zeros(3, dtype=dtype), *args)
        _assert_holds(base, _negated(plain))
