"""init_module_ replays each module's own init code (recorded on meta twins)."""
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import weightinit as wi  # noqa: E402
import weightinit.torch as init  # noqa: E402
from weightinit.torch import Recorder, RecordError  # noqa: E402


class ZeroLinear(nn.Linear):
    """A subclass whose own reset_parameters zeroes its weight (a rule table keyed by
    isinstance would give it nn.Linear's kaiming init)."""

    def reset_parameters(self):
        nn.init.zeros_(self.weight)
        if self.bias is not None:
            self.bias.data.fill_(0.5)


class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.empty(64, 32))
        self.emb = nn.Parameter(torch.empty(50, 8))

    def reset_parameters(self):
        nn.init.trunc_normal_(self.w, std=0.02)
        self.w.data.mul_(0.5)                       # folded: trunc_normal(std=0.01, a=-1, b=1)
        nn.init.normal_(self.emb)
        with torch.no_grad():
            self.emb[3] = 0.0                        # a padding row


def test_subclass_with_its_own_reset_parameters_is_honoured():
    m = nn.Sequential(ZeroLinear(8, 4), nn.Linear(8, 4))
    init.init_module_(m, seed=0)
    assert not m[0].weight.any() and torch.equal(m[0].bias, torch.full((4,), 0.5))
    assert m[1].weight.abs().max() <= 1 / math.sqrt(8) and m[1].weight.any()


def test_recorded_writes_fold_into_schemes_and_patches():
    m = Scaled()
    plan = {n: s for n, _, s, _ in init.modules.plan_module(m)}
    assert plan["w"].to_dict() == {"name": "trunc_normal", "mean": 0.0, "std": 0.01, "a": -1.0, "b": 1.0}
    assert plan["emb"].to_dict()["steps"][1]["region"] == [[3, 4], [0, 8]]
    init.init_module_(m, seed=4)
    assert not m.emb[3].any() and m.emb[4].any()
    expect = wi.schemes.get("trunc_normal", std=0.01, a=-1.0, b=1.0).init_(np.empty((64, 32), np.float32),
                                                                          seed=4, stream="w")
    np.testing.assert_array_equal(m.w.detach().numpy(), expect)


def test_meta_module_warns_and_does_nothing():
    with torch.device("meta"):
        m = nn.Linear(4, 4)
    with pytest.warns(UserWarning, match="meta device.*to_empty"):
        assert init.init_module_(m) is m
    assert all(p.is_meta for p in m.parameters())
    m.to_empty(device="cpu")                      # what the warning says to do
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no warning once there is memory to fill
        init.init_module_(m, seed=0)
    assert m.weight.abs().max() <= 0.5 and m.weight.std() > 0


def test_unrecordable_code_falls_back_with_a_warning_naming_the_call():
    class Bern(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.empty(10))

        def reset_parameters(self):
            self.w.data.bernoulli_(0.5)

    a, b = Bern(), Bern()
    with pytest.warns(UserWarning, match="bernoulli_"):
        init.init_module_(a, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        init.init_module_(b, seed=1)
    assert torch.equal(a.w, b.w)            # seeded fallback: still reproducible


def test_recorder_follows_temporaries_and_names_what_it_cannot():
    rec = Recorder()
    with torch.device("meta"):
        a, b, c = torch.empty(16), torch.empty(4, 3), torch.empty(4, 4)
    with torch.no_grad(), rec:
        a.copy_(torch.log(torch.arange(1, 17, dtype=torch.float32, device="meta")))
        b.copy_(torch.rand(4, 3, device="meta") * 2 - 1)         # U(-1, 1)
        q, _ = torch.linalg.qr(torch.randn(4, 4, device="meta"))
        c.copy_(q)
    sa = rec.scheme(a, "a")
    np.testing.assert_allclose(sa.init_(np.empty(16), seed=0), np.log(np.arange(1, 17)))
    assert rec.scheme(b, "b").to_dict() == {"name": "uniform", "low": -1.0, "high": 1.0}
    with pytest.raises(RecordError, match="'c'.*linalg_qr|'c'.*qr"):
        rec.scheme(c, "c")


def test_transformers_model_init_module_matches_its_checkpoint_spec():
    transformers = pytest.importorskip("transformers")
    from weightinit.checkpoint import from_config
    cfg = transformers.AutoConfig.for_model("llama", hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                            num_attention_heads=4, num_key_value_heads=2, vocab_size=64,
                                            pad_token_id=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.LlamaForCausalLM(cfg)
    init.init_module_(model, seed=5)
    spec = {t.name: t for t in from_config(cfg).tensors}
    sd = model.state_dict()
    for name, t in spec.items():
        expect = t.scheme.init_(np.empty(t.shape, np.float32), seed=5, stream=name)
        np.testing.assert_array_equal(sd[name].numpy(), expect, err_msg=name)
    assert not sd["model.embed_tokens.weight"][2].any()
