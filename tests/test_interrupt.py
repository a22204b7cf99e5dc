"""Ctrl-C inside long fills: the fill runs in slices (the stream contract makes slicing
free), so a KeyboardInterrupt arrives between slices instead of after the whole call;
the buffer then holds the first slices and is untouched after them."""
import signal
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi

from conftest import default_sigint
from weightinit import _sampling

CALLS = {
    "uniform": lambda a, **kw: wi.uniform_(a, -1.0, 3.0, seed=5, stream="s", **kw),
    "normal": lambda a, **kw: wi.normal_(a, 0.5, 2.0, seed=5, stream="s", **kw),
    "trunc_normal": lambda a, **kw: wi.trunc_normal_(a, 0.0, 1.0, -1.5, 2.5, seed=5, stream="s", **kw),
}


@pytest.mark.parametrize("dist", sorted(CALLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64, ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn,
                                   np.complex64], ids=["f32", "f64", "bf16", "f8", "c64"])
def test_slicing_does_not_change_bits(monkeypatch, dist, dtype):
    if dist == "trunc_normal" and np.dtype(dtype).kind == "c":
        pytest.skip("no complex truncated normal")
    whole = CALLS[dist](np.zeros(10_007, dtype), offset=12, threads=2)
    monkeypatch.setattr(_sampling, "SLICE_ELEMENTS", 500)
    sliced = CALLS[dist](np.zeros(10_007, dtype), offset=12, threads=2)
    assert whole.tobytes() == sliced.tobytes()


def test_interrupt_between_slices_keeps_the_first_slices_and_nothing_after(monkeypatch):
    ref = CALLS["normal"](np.empty(10_000, np.float32), threads=1)
    monkeypatch.setattr(_sampling, "SLICE_ELEMENTS", 1000)
    calls = []
    real = _sampling._core.fill

    def fill(*args):
        calls.append(args[2])
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args)
    monkeypatch.setattr(_sampling._core, "fill", fill)
    out = np.full(10_000, -7.0, np.float32)
    with pytest.raises(KeyboardInterrupt):
        CALLS["normal"](out, threads=1)
    assert calls[:3] == [1000, 1000, 1000]
    assert out[:3000].tobytes() == ref[:3000].tobytes()
    assert (out[3000:] == -7.0).all()


CHILD = """
import signal, sys, time, numpy as np, weightinit as wi
out = np.full(1 << 28, np.nan, np.float64)   # seconds of work on one thread
print("ready", flush=True)
try:
    wi.trunc_normal_(out, seed=1, threads=1)
    print("finished", out.size, flush=True)
except KeyboardInterrupt:
    print("interrupted", int((~np.isnan(out)).sum()), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_arrives_inside_a_long_fill():
    p = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    assert p.stdout.readline().strip() == "ready"
    import time
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    word, count = out.split()
    assert word == "interrupted", "Ctrl-C arrived only after the whole fill"
    assert 0 < int(count) < 1 << 28 and int(count) % (1 << 21) == 0
