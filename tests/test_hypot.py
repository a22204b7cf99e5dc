"""wi_hypot (csrc/wi_hypot.h), the Householder vector's norm: correctly rounded on
random and edge inputs (checked exactly with rational arithmetic), and the same bits
when cross-compiled for aarch64 and run under qemu-user (where the tools exist)."""
import math
import os
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "tests", "c", "check_hypot.c")
FLAGS = ["-std=c11", "-O2", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-I",
         os.path.join(ROOT, "csrc")]


def pairs():
    rng = np.random.default_rng(2026)
    n = 40_000
    a = rng.standard_normal(n)                                      # what the reflectors see
    b = np.abs(rng.standard_normal(n)) * np.sqrt(rng.integers(1, 5000, n))
    wide = rng.standard_normal((2, n)) * 2.0 ** rng.integers(-1074, 1000, (2, n))   # any exponents
    close = rng.standard_normal(n) * 2.0 ** rng.integers(-40, 40, n)                  # near-equal magnitudes
    c = np.nextafter(close, np.inf) * (1 + rng.standard_normal(n) * 1e-9)
    edge = [(0.0, 0.0), (-0.0, 3.0), (3.0, 4.0), (5e-324, 5e-324), (1.7976931348623157e308, 1.7976931348623157e308),
            (1e-310, 3e-310), (1.0, 1e-17), (1.0, 2.0 ** -27), (0.5, 2.0 ** -60), (2.0 ** 1023, 2.0 ** 1000),
            (math.inf, math.nan), (math.nan, 1.0), (-math.inf, 0.0)]
    out = [(float(x), float(y)) for x, y in zip(a, b)] + list(zip(*wide)) + list(zip(close, c)) + edge
    return [(float(x), float(y)) for x, y in out]


def run(exe_cmd, data):
    text = "".join(f"{x.hex()} {y.hex()}\n" for x, y in data)
    out = subprocess.run(exe_cmd, input=text, capture_output=True, text=True, check=True).stdout
    return [float.fromhex(line.split()[2]) for line in out.splitlines()]


def correctly_rounded(a, b, h):
    """h is the double nearest sqrt(a^2 + b^2) (exact comparison of squares)."""
    if math.isinf(h) or h == 0.0:
        return True
    s = Fraction(a) ** 2 + Fraction(b) ** 2
    lo = (Fraction(h) + Fraction(math.nextafter(h, 0.0))) / 2
    hi = (Fraction(h) + Fraction(math.nextafter(h, math.inf))) / 2
    return lo * lo <= s <= hi * hi


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path_factory.mktemp("hypot") / "check_hypot"
    subprocess.run([cc, *FLAGS, SRC, "-o", str(exe), "-lm"], check=True)
    return str(exe)


def test_correctly_rounded_on_random_and_edge_inputs(native):
    data = pairs()
    got = run([native], data)
    bad = [(a, b, h) for (a, b), h in zip(data, got) if not math.isnan(h) and not correctly_rounded(a, b, h)]
    assert not bad, f"{len(bad)} of {len(data)} not correctly rounded, e.g. {bad[:3]}"
    special = dict(zip(data[-3:], got[-3:]))
    assert math.isinf(special[(math.inf, math.nan)]) and math.isnan(special[(math.nan, 1.0)])
    assert special[(-math.inf, 0.0)] == math.inf


def test_same_bits_on_aarch64(native):
    cross, qemu = shutil.which("aarch64-linux-gnu-gcc"), shutil.which("qemu-aarch64") or shutil.which(
        "qemu-aarch64-static")
    if not (cross and qemu):
        pytest.skip("needs gcc-aarch64-linux-gnu and qemu-user")
    exe = os.path.join(os.path.dirname(native), "check_hypot_aarch64")
    subprocess.run([cross, *FLAGS, SRC, "-o", exe, "-lm"], check=True)
    data = pairs()[:20_000]
    here = run([native], data)
    there = run([qemu, "-L", "/usr/aarch64-linux-gnu", exe], data)
    assert [h.hex() for h in here] == [h.hex() for h in there]
