"""weightinit.torch writes are seen by autograd like torch.nn.init's in-place ops:
the version counter moves (so a backward through a saved old value raises), and
inference tensors can only be written inside inference mode."""
import pytest

torch = pytest.importorskip("torch")
import torch.nn.init as tinit  # noqa: E402

import weightinit.torch as init  # noqa: E402

# (name, shape, extra args): every in-place function of the API
CALLS = [
    ("uniform_", (6, 5), ()), ("normal_", (6, 5), ()), ("trunc_normal_", (6, 5), ()),
    ("constant_", (6, 5), (0.5,)), ("ones_", (6, 5), ()), ("zeros_", (6, 5), ()),
    ("eye_", (6, 5), ()), ("dirac_", (6, 5, 3), ()), ("xavier_uniform_", (6, 5), ()),
    ("xavier_normal_", (6, 5), ()), ("kaiming_uniform_", (6, 5), ()), ("kaiming_normal_", (6, 5), ()),
    ("orthogonal_", (6, 5), ()), ("sparse_", (6, 5), (0.5,)),
]
IDS = [c[0] for c in CALLS]


def _layouts(shape):
    """(label, tensor to initialize, the tensor autograd saw): contiguous, a view of
    a row block, a transposed (non-contiguous) view."""
    a = torch.ones(shape)
    yield "contiguous", a, a
    big = torch.ones((2 * shape[0],) + shape[1:])
    yield "contiguous view", big[shape[0]:], big
    t = torch.ones(tuple(reversed(shape[:2])) + shape[2:]).transpose(0, 1)
    yield "transposed view", t, t


@pytest.mark.parametrize("name,shape,args", CALLS, ids=IDS)
def test_every_write_bumps_the_version_counter_like_torch(name, shape, args):
    for label, target, seen in _layouts(shape):
        ours, theirs = target._version, target.clone()._version
        getattr(init, name)(target, *args)
        getattr(tinit, name)(target.clone(), *args)  # torch's own call bumps too (reference)
        assert target._version > ours, f"{name} on a {label} tensor: version stayed at {ours}"
        assert seen._version > 0, f"{name} on a {label} tensor: the base tensor's version stayed at 0"
        del theirs


@pytest.mark.parametrize("name,shape,args", CALLS, ids=IDS)
def test_backward_through_a_reinitialized_saved_tensor_raises(name, shape, args):
    for label, target, _ in _layouts(shape):
        x = torch.ones(shape, requires_grad=True)
        y = (x * target).sum()  # saves `target` for the backward pass
        getattr(init, name)(target, *args)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_parameter_stays_a_leaf_and_backward_after_init_uses_new_values():
    p = torch.nn.Parameter(torch.empty(4, 3))
    init.kaiming_normal_(p, generator=torch.Generator().manual_seed(0))
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    x = torch.ones(3)
    (p @ x).sum().backward()
    assert torch.equal(p.grad, torch.ones(4, 3))


def test_zero_copy_is_kept():
    t = torch.empty(64, 32)
    ptr = t.data_ptr()
    init.normal_(t, generator=torch.Generator().manual_seed(1))
    assert t.data_ptr() == ptr and t._version == 1


def test_init_module_bumps_every_parameter():
    m = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8))
    before = {n: p._version for n, p in m.named_parameters()}
    x = torch.ones(2, 4)
    y = m(x).sum()
    init.init_module_(m, seed=0)
    assert all(p._version > before[n] for n, p in m.named_parameters())
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_fixup_bumps_the_versions_it_writes():
    lin = torch.nn.Linear(8, 8)
    head = torch.nn.Linear(8, 2)
    v = lin.weight._version
    init.fixup_([[lin, torch.nn.Linear(8, 8)]], head, seed=0)
    assert lin.weight._version > v


@pytest.mark.parametrize("name,shape,args", CALLS, ids=IDS)
def test_inference_tensor_outside_inference_mode_raises_like_torch_and_is_untouched(name, shape, args):
    with torch.inference_mode():
        t, theirs = torch.full(shape, 7.0), torch.full(shape, 7.0)
    with pytest.raises(RuntimeError, match="[Ii]nference"):
        getattr(tinit, name)(theirs, *args)       # torch refuses (some of its kernels write first)
    with pytest.raises(RuntimeError, match="[Ii]nference"):
        getattr(init, name)(t, *args)             # ... and so do we
    assert torch.equal(t, torch.full(shape, 7.0)), f"{name} wrote into an inference tensor"


@pytest.mark.parametrize("name,shape,args", CALLS, ids=IDS)
def test_inference_tensor_inside_inference_mode_is_written(name, shape, args):
    kw = {} if name in ("constant_", "ones_", "zeros_", "eye_", "dirac_") else \
        {"generator": torch.Generator().manual_seed(3)}
    with torch.inference_mode():
        t = torch.full(shape, 7.0)
        getattr(init, name)(t, *args, **kw)
    kw = {k: torch.Generator().manual_seed(3) for k in kw}
    expect = getattr(init, name)(torch.full(shape, 7.0), *args, **kw)
    assert torch.equal(t, expect)
