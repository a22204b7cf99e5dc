"""float8 outputs (float8_e4m3fn, float8_e5m2): the float32 sample rounded once to
nearest even with the format's overflow rule; checked bit for bit against
ml_dtypes/torch and an independent rounding oracle, and cell by cell against the
exact discrete law (chi-square over every representable value)."""
import hashlib
import json
import math
import re
import struct

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import weightinit as wi

F8 = {"float8_e4m3fn": np.dtype(ml_dtypes.float8_e4m3fn), "float8_e5m2": np.dtype(ml_dtypes.float8_e5m2)}
NAMES = list(F8)
ALPHA = 1e-3


def finite_values(dt):
    """Every finite value of dt, ascending (one zero)."""
    v = np.arange(256, dtype=np.uint8).view(dt).astype(np.float64)
    return np.unique(v[np.isfinite(v)])


def oracle(x, dt):
    """Round float64 x to dt once, to nearest, ties to the even code; overflow as the
    format says (e4m3fn: NaN beyond 464; e5m2: inf from 61440). Written independently
    of the C encoder: a search over the value table."""
    codes = np.arange(256, dtype=np.uint8)
    vals = codes.view(dt).astype(np.float64)
    keep = np.isfinite(vals) & ~((vals == 0) & (codes >= 128))        # +0 only
    vals, codes = vals[keep], codes[keep]
    order = np.argsort(vals)
    vals, codes = vals[order], codes[order]
    top = vals[-1]
    beyond = 480.0 if dt == F8["float8_e4m3fn"] else 65536.0
    out = np.empty(len(x), np.uint8)
    for k, xv in enumerate(x):
        ax = abs(xv)
        sign = 0x80 if math.copysign(1.0, xv) < 0 else 0
        half = (top + beyond) / 2           # overflow starts at the midpoint to the missing next value
        e5 = dt == F8["float8_e5m2"]
        if ax > half or (ax == half and e5):  # (e5m2's top code is odd: the tie goes up)
            out[k] = (0x7c if e5 else 0x7f) | sign
            continue
        i = np.searchsorted(vals, xv)
        cands = [j for j in (i - 1, i) if 0 <= j < len(vals)]
        d = [abs(vals[j] - xv) for j in cands]
        if len(cands) == 2 and d[0] == d[1]:
            j = cands[0] if codes[cands[0]] % 2 == 0 else cands[1]
        else:
            j = cands[int(np.argmin(d))]
        c = codes[j]
        if vals[j] == 0 and math.copysign(1.0, xv) < 0:
            c = 0x80
        out[k] = c
    return out


def probe_values(dt):
    """Every value, every midpoint and its float32 neighbours, overflow points, specials."""
    reps = finite_values(dt)
    mids = (reps[1:] + reps[:-1]) / 2
    f32 = lambda a: a.astype(np.float32).astype(np.float64)
    near = np.concatenate([mids, f32(np.nextafter(mids.astype(np.float32), np.float32(np.inf))),
                           f32(np.nextafter(mids.astype(np.float32), np.float32(-np.inf)))])
    extra = [0.0, -0.0, 448.0, 464.0, 465.0, 479.0, 480.0, 57344.0, 61439.0, 61440.0, 65536.0, 1e5, -1e5,
             1e-30, -1e-30, 2.0 ** -10, 2.0 ** -17, 3 * 2.0 ** -11, 3 * 2.0 ** -18]
    rng = np.random.default_rng(0)
    spread = f32(rng.standard_normal(20000) * reps.max() / 3)
    return np.concatenate([reps, -reps, near, extra, spread])


# ------------------------------------------------------------------ rounding

def beyond_range(x, dt):
    """The finite x that the oracle rounds to NaN or inf: constant_ refuses them."""
    return ~np.isfinite(oracle(x, dt).view(dt).astype(np.float32)) & np.isfinite(x)


@pytest.mark.parametrize("name", NAMES)
def test_rounding_of_float32_values_matches_ml_dtypes_and_the_oracle(name):
    dt = F8[name]
    x = probe_values(dt)
    over = beyond_range(x, dt)
    assert over.sum() >= 8          # the overflow points among the probes
    for v in x[over]:               # would round to NaN/inf: refused, nothing written
        out = np.zeros(1, dt)
        with pytest.raises(ValueError, match=re.escape(f"value={float(v)!r} is outside the range of {name}")):
            wi.constant_(out, float(v))
        assert out.view(np.uint8)[0] == 0
    x = x[~over]
    ours = np.array([wi.constant_(np.zeros(1, dt), float(v))[0] for v in x], dt).view(np.uint8)
    theirs = x.astype(np.float32).astype(dt).view(np.uint8)
    isnan = np.isnan(x.astype(np.float32).astype(dt).astype(np.float32))
    mism = (ours != theirs) & ~isnan
    assert not mism.any(), f"{name}: differs from ml_dtypes at {x[mism][:8]}"
    assert np.isnan(np.array(ours[isnan]).view(dt).astype(np.float32)).all()
    expect = oracle(x, dt)
    assert np.array_equal(ours, expect), f"{name}: differs from the oracle at {x[ours != expect][:8]}"


@pytest.mark.parametrize("name", NAMES)
def test_float64_constants_are_rounded_once(name):
    """Just below a midpoint in float64 (not representable in float32): one rounding
    gives the lower neighbour; float64 -> float32 -> float8 would tie upward."""
    dt = F8[name]
    reps = finite_values(dt)
    mids = (reps[1:] + reps[:-1]) / 2
    below = np.nextafter(mids, -np.inf)
    ours = np.array([wi.constant_(np.zeros(1, dt), float(v))[0] for v in below], dt).view(np.uint8)
    assert np.array_equal(ours, oracle(below, dt))


@pytest.mark.parametrize("name", NAMES)
def test_specials(name):
    dt = F8[name]
    for v in (math.inf, -math.inf, math.nan):
        if name == "float8_e4m3fn" and math.isinf(v):   # no infinity: refused rather than NaN
            with pytest.raises(ValueError, match="float8_e4m3fn has no infinity"):
                wi.constant_(np.zeros(4, dt), v)
            continue
        o = wi.constant_(np.zeros(4, dt), v).astype(np.float32)
        e = np.full(4, v, np.float32).astype(dt).astype(np.float32)
        assert np.array_equal(o, e, equal_nan=True), (name, v, o, e)


def test_rounding_matches_torch_inside_the_range():
    """torch rounds like us in range; beyond it, torch saturates float8_e4m3fn at
    +-448 where ml_dtypes gives NaN and the numpy API refuses the value. Samples never
    get there (the range checks), and weightinit.torch.constant_ uses torch's own fill_."""
    torch = pytest.importorskip("torch")
    for name, dt in F8.items():
        x = probe_values(dt).astype(np.float32)
        inside = np.abs(x) <= finite_values(dt).max()
        x = x[inside]
        t = torch.from_numpy(x).to(getattr(torch, name)).view(torch.uint8).numpy()
        ours = np.array([wi.constant_(np.zeros(1, dt), float(v))[0] for v in x], dt)
        assert np.array_equal(ours.view(np.uint8), t), name
    t = torch.tensor([1000.0]).to(torch.float8_e4m3fn)
    assert t.float().item() == 448.0            # the documented difference


# ------------------------------------------------------------------ the stream: float32 rounded once

@pytest.mark.parametrize("name", NAMES)
def test_normal_is_the_float32_normal_rounded_once_on_every_path(name, monkeypatch):
    dt = F8[name]
    std = 2.0 if name == "float8_e4m3fn" else 0.05
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        ours = wi.normal_(np.empty(50_003, dt), 0.1, std, seed=5, stream="x", offset=77)
        ref = wi.normal_(np.empty(50_003, np.float32), 0.1, std, seed=5, stream="x", offset=77).astype(dt)
        assert ours.tobytes() == ref.tobytes(), path


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("low,high", [(-1.0, 1.0), (0.0, 0.3), (-448.0, 448.0), (1.0, 1.125)])
def test_uniform_rounds_once_and_never_returns_high(name, low, high):
    dt = F8[name]
    ours = wi.uniform_(np.empty(200_000, dt), low, high, seed=1).astype(np.float64)
    f32 = wi.uniform_(np.empty(200_000, np.float32), low, high, seed=1)
    ref = f32.astype(dt).astype(np.float64)
    reps = finite_values(dt)
    top = reps[reps < high].max()
    bottom = reps[reps >= low].min()
    assert ours.max() < high and ours.min() >= low
    ref = np.clip(ref, bottom, top)   # what rounded outside [low, high) is clamped to its edge value
    assert np.array_equal(ours, ref)


@pytest.mark.parametrize("name", NAMES)
def test_trunc_normal_inside_the_bounds_and_rounded_once(name):
    dt = F8[name]
    a, b = -0.1, 0.3        # not representable: the edge values are the ones inside
    ours = wi.trunc_normal_(np.empty(200_000, dt), 0.0, 0.2, a, b, seed=2).astype(np.float64)
    reps = finite_values(dt)
    inside = reps[(reps >= a) & (reps <= b)]
    assert ours.min() >= inside.min() and ours.max() <= inside.max()
    ref = wi.trunc_normal_(np.empty(200_000, np.float32), 0.0, 0.2, a, b, seed=2).astype(dt).astype(np.float64)
    ref = np.clip(ref, inside.min(), inside.max())
    assert np.array_equal(ours, ref)


@pytest.mark.parametrize("name", NAMES)
def test_chunks_and_threads_do_not_matter(name):
    dt = F8[name]
    whole = wi.normal_(np.empty(300_000, dt), seed=3, threads=2)
    parts = np.concatenate([wi.normal_(np.empty(1001, dt), seed=3, threads=1),
                            wi.normal_(np.empty(300_000 - 1001, dt), seed=3, offset=1001, threads=2)])
    assert whole.tobytes() == parts.tobytes()


GOLDEN = {
    ("uniform", "float8_e4m3fn"):
        "4ae6a648916a3e2a1f24ffaa3d20650831647e7201f2e11c9782485fc2c63ffd", ("uniform", "float8_e5m2"):
        "3bbb9c70bf365410e355df432abc669a132771e7e869ff6e1d55eb6f5fa0f677",
    ("normal", "float8_e4m3fn"):
        "9f8db483e617f477326934cb576b152f4b048cb31e2cabe7d3867821d0423567", ("normal", "float8_e5m2"):
        "8eeccf59fe5d3f950158419aa42058a273081d1661e3c27a7a439b0a94531199",
    ("trunc_normal", "float8_e4m3fn"):
        "f87b4ddca0369f4d06d45fbd2faaa5684c4c77ff72b0632211457cb5d6975bc5", ("trunc_normal", "float8_e5m2"):
        "39e499d2435842298431bd529dae74abaa39c49d92452edf9daacad85acaa314",
}
CALLS = {
    "uniform": lambda a: wi.uniform_(a, -0.5, 2.0, seed=20261122, stream="layers.0.weight", offset=1000),
    "normal": lambda a: wi.normal_(a, 0.1, 0.02, seed=20261122, stream="layers.0.weight", offset=1000),
    "trunc_normal": lambda a: wi.trunc_normal_(a, 0.0, 1.0, -2.0, 2.0, seed=20261122, stream="layers.0.weight",
                                               offset=1000),
}


@pytest.mark.parametrize("dist,name", sorted(GOLDEN))
def test_golden_hash(dist, name, monkeypatch):
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        out = CALLS[dist](np.empty(3001, F8[name]))
        assert hashlib.sha256(out.tobytes()).hexdigest() == GOLDEN[dist, name], path


# ------------------------------------------------------------------ the exact discrete law

def _cells(dt):
    """(values, lower edges, upper edges) of the rounding cells of every finite value."""
    reps = finite_values(dt)
    mids = (reps[1:] + reps[:-1]) / 2
    lo = np.concatenate([[-np.inf], mids])
    hi = np.concatenate([mids, [np.inf]])
    return reps, lo, hi


def _chi2(x, reps, mass, label):
    """Chi-square of the counts of every value against n * mass, adjacent cells merged
    until each expects at least 5."""
    n = len(x)
    idx = np.searchsorted(reps, x.astype(np.float64))
    assert np.all(reps[np.minimum(idx, len(reps) - 1)] == x.astype(np.float64)), f"{label}: a value off the table"
    counts = np.bincount(idx, minlength=len(reps)).astype(np.float64)
    assert counts[mass == 0].sum() == 0, f"{label}: values where the law has no mass"
    exp = mass / mass.sum() * n
    obs_b, exp_b, co, ce = [], [], 0.0, 0.0
    for o, e in zip(counts, exp):
        co, ce = co + o, ce + e
        if ce >= 5:
            obs_b.append(co), exp_b.append(ce)
            co = ce = 0.0
    if ce > 0:
        obs_b[-1] += co
        exp_b[-1] += ce
    res = stats.chisquare(obs_b, exp_b)
    assert res.pvalue > ALPHA, f"{label}: chi2 {res.statistic:.1f} over {len(obs_b)} cells, p={res.pvalue:.3g}"
    return len(obs_b)


LAWS = [  # (name, distribution, params): std small enough to reach the subnormals in each format
    ("float8_e4m3fn", "normal", (0.0, 1.0)), ("float8_e4m3fn", "normal", (0.03, 0.01)),
    ("float8_e5m2", "normal", (0.0, 1.0)), ("float8_e5m2", "normal", (0.0, 1e-4)),
    ("float8_e4m3fn", "uniform", (-1.0, 1.0)), ("float8_e5m2", "uniform", (-0.3, 0.7)),
    ("float8_e4m3fn", "trunc_normal", (0.0, 1.0, -2.0, 2.0)), ("float8_e5m2", "trunc_normal", (0.0, 0.5, -0.25, 1.0)),
]


@pytest.mark.parametrize("name,dist,params", LAWS)
def test_exact_discrete_law(name, dist, params):
    dt = F8[name]
    reps, lo, hi = _cells(dt)
    n = 1 << 20
    x = getattr(wi, dist + "_")(np.empty(n, dt), *params, seed=11, stream=dist)
    if dist == "normal":
        m, s = params
        mass = stats.norm.cdf(hi, m, s) - stats.norm.cdf(lo, m, s)
    elif dist == "uniform":
        a, b = params
        mass = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0, None) / (b - a)
    else:
        m, s, a, b = params
        mass = np.clip(stats.norm.cdf(np.minimum(hi, b), m, s) - stats.norm.cdf(np.maximum(lo, a), m, s), 0, None)
    if dist != "normal":
        # values that round outside the interval are clamped to the edge values inside it
        a, b = params[-2:]
        top = np.flatnonzero(reps < b if dist == "uniform" else reps <= b)[-1]
        bottom = np.flatnonzero(reps >= a)[0]
        mass[top] += mass[top + 1:].sum()
        mass[bottom] += mass[:bottom].sum()
        mass[top + 1:] = 0
        mass[:bottom] = 0
    cells = _chi2(x, reps, mass, f"{dist}{params} in {name}")
    assert cells > 20


# ------------------------------------------------------------------ schemes, checks, torch, checkpoints

@pytest.mark.parametrize("name", NAMES)
def test_every_scheme_fills_float8(name):
    from weightinit import schemes
    dt = F8[name]
    for s in schemes.available():
        if s in ("recorded", "constant"):
            continue
        shape = (16, 8, 3) if s in ("dirac", "delta_orthogonal") else (16, 8)
        out = np.full(shape, 7.0, dt)
        schemes.get(s).init_(out, seed=0, stream=s)
        x = out.astype(np.float32)
        assert np.isfinite(x).all() and not np.all(x == 7.0), s


@pytest.mark.parametrize("name", NAMES)
def test_orthogonal_is_the_float32_matrix_rounded_once(name):
    dt = F8[name]
    ours = wi.orthogonal_(np.empty((64, 48), dt), seed=4, stream="q")
    ref = wi.orthogonal_(np.empty((64, 48), np.float32), seed=4, stream="q").astype(dt)
    assert ours.tobytes() == ref.tobytes()


@pytest.mark.parametrize("call,msg", [
    (lambda o: wi.normal_(o, std=100.0, seed=0), "std=100.0"),       # 6.66 * 100 > 448
    (lambda o: wi.uniform_(o, 0.0, 500.0, seed=0), "high=500.0"),
    (lambda o: wi.trunc_normal_(o, 0.0, 1.0, 500.0, 600.0, seed=0), "a=500.0"),
    (lambda o: wi.orthogonal_(o.reshape(8, 8), gain=1000.0, seed=0), "gain=1000.0"),
])
def test_range_checks_use_the_float8_range(call, msg):
    out = np.full(64, 3.0, F8["float8_e4m3fn"])
    with pytest.raises(ValueError, match=msg):
        call(out)
    assert np.all(out.astype(np.float32) == 3.0)


def test_torch_float8_tensors():
    torch = pytest.importorskip("torch")
    import weightinit.torch as init
    for name, dt in F8.items():
        t = torch.empty(40, 30, dtype=getattr(torch, name))
        init.kaiming_normal_(t, generator=torch.Generator().manual_seed(1))
        seed = init.seed_from_generator(torch.Generator().manual_seed(1))
        ref = wi.kaiming_normal_(np.empty((40, 30), dt), seed=seed)
        assert np.array_equal(t.view(torch.uint8).numpy(), ref.view(np.uint8)), name
        assert t._version == 1
        v = torch.zeros(40, 60, dtype=getattr(torch, name))[:, ::2]     # non-contiguous: copy_
        init.normal_(v, std=0.1)
        assert v.float().std() > 0.05


def test_checkpoint_float8_dtypes(tmp_path):
    from weightinit.checkpoint import create_checkpoint, parse_spec
    spec = parse_spec({"seed": 0, "dtype": "float8_e4m3fn", "tensors": [
        {"name": "w", "shape": [64, 32], "scheme": "normal(std=0.02)"},
        {"name": "v", "shape": [16, 16], "dtype": "F8_E5M2", "scheme": "he_uniform"}]})
    path = tmp_path / "m.safetensors"
    create_checkpoint(spec, str(path), progress=False)
    raw = path.read_bytes()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    assert header["w"]["dtype"] == "F8_E4M3" and header["v"]["dtype"] == "F8_E5M2"
    b, e = header["w"]["data_offsets"]
    w = np.frombuffer(raw[8 + hlen + b:8 + hlen + e], F8["float8_e4m3fn"]).reshape(64, 32)
    ref = wi.normal_(np.empty((64, 32), F8["float8_e4m3fn"]), 0.0, 0.02, seed=0, stream="w")
    assert w.tobytes() == ref.tobytes()


@pytest.mark.slow
def test_encoders_exhaustively(tmp_path):
    """All 2^32 float32 bit patterns through both encoders, in C (about 90 s)."""
    import os
    import shutil
    import subprocess
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    exe = tmp_path / "check_convert8"
    subprocess.run([cc, "-std=c11", "-O2", "-I", os.path.join(root, "csrc"),
                    os.path.join(root, "tests", "c", "check_convert8.c"), "-o", str(exe), "-lm"], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert "e4m3fn: 0 mismatches" in out and "e5m2: 0 mismatches" in out, out
