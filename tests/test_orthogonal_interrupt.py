"""Ctrl-C inside a long orthogonal_: the C driver runs in a helper thread and polls a
cancel flag between panels and product chunks, so a KeyboardInterrupt arrives at once
instead of after the whole matrix. float32/float64 outputs then hold partial values;
16- and 8-bit and complex outputs of the whole matrix (written only at the end) are
untouched."""
import signal
import subprocess
import sys
import threading

import ml_dtypes
import numpy as np
import pytest

import weightinit as wi

from conftest import default_sigint
from weightinit import _core, orthogonal as orth_mod


@pytest.mark.parametrize("block", [False, True], ids=["whole", "block"])
def test_a_set_flag_stops_the_call_with_keyboardinterrupt(block):
    flag = np.ones(1, np.intc)
    out = np.full((300, 200), 5.0, np.float32)
    with pytest.raises(KeyboardInterrupt, match="cancelled"):
        if block:
            _core.orthogonal_block(out.ctypes.data, 300, 200, 0, 0, 300, 200, "float32", 1.0, 1, 0, 2, 0,
                                   flag.ctypes.data)
        else:
            _core.orthogonal(out.ctypes.data, 300, 200, "float32", 1.0, 1, 0, 2, 0, flag.ctypes.data)


@pytest.mark.parametrize("dtype,core_fn,core_dtype", [
    (ml_dtypes.bfloat16, "orthogonal", "bfloat16"),        # 16-bit: rounded from the whole matrix at the end
    (np.complex64, "orthogonal_complex", "float32"),       # complex: stored from the whole matrix at the end
], ids=["bfloat16", "complex64"])
def test_output_written_at_the_end_is_untouched_when_cancelled(dtype, core_fn, core_dtype):
    flag = np.ones(1, np.intc)
    out = np.full((300, 200), 5.0, dtype)
    with pytest.raises(KeyboardInterrupt):
        getattr(_core, core_fn)(out.ctypes.data, 300, 200, core_dtype, 1.0, 1, 0, 2, 0, flag.ctypes.data)
    assert (out == 5.0).all()


def test_helper_thread_path_gives_the_same_bits(monkeypatch):
    ref = wi.orthogonal_(np.empty((260, 130), np.float64), seed=4, stream="w")
    monkeypatch.setattr(orth_mod, "INTERRUPTIBLE_WORK", 0)    # every call through the helper thread
    got = wi.orthogonal_(np.empty((260, 130), np.float64), seed=4, stream="w")
    blk = wi.orthogonal_(np.empty((260, 40), np.float64), seed=4, stream="w", global_shape=(260, 130),
                         offset=(0, 90))
    assert got.tobytes() == ref.tobytes() and blk.tobytes() == ref[:, 90:].tobytes()


def test_calls_from_other_threads_run_inline(monkeypatch):
    monkeypatch.setattr(orth_mod, "INTERRUPTIBLE_WORK", 0)
    ref = wi.orthogonal_(np.empty((64, 32), np.float32), seed=4)
    got = []
    t = threading.Thread(target=lambda: got.append(wi.orthogonal_(np.empty((64, 32), np.float32), seed=4)))
    t.start()
    t.join()
    assert got[0].tobytes() == ref.tobytes()


CHILD = """
import numpy as np, weightinit as wi
out = np.full(({n}, {n}), np.nan, np.{dtype})   # seconds of work
print("ready", flush=True)
try:
    wi.orthogonal_(out, seed=1, threads=2{extra})
    print("finished", flush=True)
except KeyboardInterrupt:
    again = wi.orthogonal_(np.empty((70, 50)), seed=3)       # the next call is not affected
    ref = wi.orthogonal_(np.empty((70, 50)), seed=3)
    print("interrupted", bool((again == ref).all()), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("n, dtype, extra", [
    (4096, "float64", ""), (4096, "float32", ", global_shape=(8192, 4096), offset=(4096, 0)"),
    (2000, "complex64", "")], ids=["whole", "row-block", "complex"])
def test_sigint_arrives_inside_a_long_orthogonal(n, dtype, extra):
    p = subprocess.Popen([sys.executable, "-c", CHILD.format(n=n, dtype=dtype, extra=extra)],
                         stdout=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    assert p.stdout.readline().strip() == "ready"
    import time
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    assert out.split() == ["interrupted", "True"], f"Ctrl-C arrived only after the whole matrix: {out!r}"
