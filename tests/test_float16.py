"""float16 outputs: the vector paths convert with F16C's instruction, the portable one
with integer operations (csrc/convert.h); both must round every float32 the same way.
Exhaustively in C where the CPU has F16C, and through the API on every SIMD path for
the values where conversions go wrong: subnormal halves, the top of the range, bounds
that the truncated normal clamps to (also at zero), lengths and offsets that leave
partial vectors."""
import os
import shutil
import subprocess

import numpy as np
import pytest

import weightinit as wi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CASES = {
    # std 1e-6: most values are float16 subnormals (below 6.1e-5), many round to 0
    "subnormal halves": lambda o, off: wi.normal_(o, 0.0, 1e-6, seed=3, offset=off),
    "top of the range": lambda o, off: wi.uniform_(o, 6.0e4, 65504.0, seed=4, offset=off),
    "near the reach": lambda o, off: wi.normal_(o, 0.0, 9000.0, seed=5, offset=off),
    # [0.9997, 1.0016] holds the float16 values 1 and 1 + 2^-10 only: samples below
    # 0.99976 and above 1.00146 would round outside it, and are clamped
    "clamped bounds": lambda o, off: wi.trunc_normal_(o, 1.0, 1e-3, 0.9997, 1.0016, seed=6, offset=off),
    # a bound at zero: the clamp keeps -0 and +0 as the portable compare does
    "bound at zero": lambda o, off: wi.trunc_normal_(o, 0.0, 1e-7, 0.0, 1e-6, seed=7, offset=off),
    "negative side at zero": lambda o, off: wi.trunc_normal_(o, 0.0, 1e-7, -1e-6, 0.0, seed=8, offset=off),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("n,offset", [(10007, 0), (4099, 13), (7, 5)])
def test_float16_is_the_same_on_every_simd_path(case, n, offset, monkeypatch):
    results = {}
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        results[path] = CASES[case](np.full(n, np.nan, np.float16), offset).view(np.uint16)
    portable = results["scalar"]
    assert np.isfinite(portable.view(np.float16)).all()
    for path, bits in results.items():
        k = np.flatnonzero(bits != portable)
        assert k.size == 0, f"{path} differs from the portable path at {k[:5]}: {bits[k[:5]]} vs {portable[k[:5]]}"


def test_the_cases_reach_the_values_they_are_about():
    """Each case holds what its name says (else the test above proves little)."""
    sub = CASES["subnormal halves"](np.empty(10007, np.float16), 0)
    tiny = np.abs(sub) < np.finfo(np.float16).tiny
    assert 0.3 < tiny.mean() and (sub[tiny] != 0).sum() > 1000
    top = CASES["top of the range"](np.empty(10007, np.float16), 0)
    assert (top == 65472).any()   # uniform_'s [low, high) in float16: the largest value below 65504
    clamped = CASES["clamped bounds"](np.empty(10007, np.float16), 0)
    assert set(np.unique(clamped).tolist()) == {1.0, 1.0 + 2.0 ** -10}
    unclamped = CASES["clamped bounds"](np.empty(10007, np.float32), 0)
    assert (unclamped < 0.99976).sum() > 100 and (unclamped > 1.00147).sum() > 100
    zero = CASES["bound at zero"](np.empty(10007, np.float16), 0).view(np.uint16)
    neg = CASES["negative side at zero"](np.empty(10007, np.float16), 0).view(np.uint16)
    assert (zero == 0).any() and (neg == 0x8000).any()


@pytest.mark.slow
def test_f16c_conversion_is_the_portable_one(tmp_path):
    """All 2^32 float32 bit patterns, under three MXCSR settings (about 35 s)."""
    import platform
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("needs an x86-64 C compiler")
    with open("/proc/cpuinfo") as f:
        if " f16c" not in f.read():
            pytest.skip("this CPU has no F16C")
    exe = tmp_path / "check_f16c"
    subprocess.run([cc, "-std=c11", "-O2", "-mavx2", "-mf16c", "-ffp-contract=off", "-I", os.path.join(ROOT, "csrc"),
                    os.path.join(ROOT, "tests", "c", "check_f16c.c"), "-o", str(exe), "-lm"], check=True)
    r = subprocess.run([str(exe)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "differences: 0 (default MXCSR), 0 (FTZ+DAZ), 0 (round toward zero)" in r.stdout
