import ml_dtypes
import numpy as np
import pytest

DTYPES = {
    "float64": np.dtype(np.float64),
    "float32": np.dtype(np.float32),
    "float16": np.dtype(np.float16),
    "bfloat16": np.dtype(ml_dtypes.bfloat16),
}


@pytest.fixture(params=list(DTYPES), ids=list(DTYPES))
def dtype(request):
    return DTYPES[request.param]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """Tests start from the default SIMD path and thread count."""
    monkeypatch.delenv("WEIGHTINIT_SIMD", raising=False)
    monkeypatch.delenv("WEIGHTINIT_NUM_THREADS", raising=False)


def default_sigint():
    """preexec_fn of a child that the test interrupts: a shell's background job runs with
    SIGINT ignored, which its children inherit (Python then installs no Ctrl-C handler)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
