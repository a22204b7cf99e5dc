"""Portability beyond x86, proven: the C core cross-compiled for aarch64 (Debian's
gcc-aarch64-linux-gnu) runs a driver of the golden cases under qemu-user and must give
the bits x86 gives (scripts/cross_check.sh); the native driver's bits are the frozen
golden values of the Python API. The same script also runs the AVX-512 code paths
(Philox, the bfloat16 split order, the GEMM tiles) on any x86-64, their intrinsics in
SIMDe's portable C (Debian's libsimde-dev). Skips where the tools are not installed."""
import hashlib
import os
import shutil
import subprocess

import numpy as np
import pytest

import weightinit as wi
from test_golden import GOLDEN, N, OFFSET, SEED, STREAM
from weightinit._sampling import _complex_fill
from weightinit._streams import stream_id

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "cross_check.sh")


@pytest.fixture(scope="module")
def cross(tmp_path_factory):
    if not (shutil.which("aarch64-linux-gnu-gcc") and (shutil.which("qemu-aarch64")
                                                        or shutil.which("qemu-aarch64-static"))):
        pytest.skip("needs gcc-aarch64-linux-gnu and qemu-user (Debian packages)")
    out = tmp_path_factory.mktemp("cross")
    r = subprocess.run([SCRIPT, "aarch64", str(out)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "WI_STREAM": str(stream_id(STREAM))})
    assert r.returncode in (0, 1), r.stderr
    return out, {line.split(": ", 1)[1] for line in r.stdout.splitlines() if line.startswith("differs: ")}


@pytest.fixture(scope="module")
def avx512_simde(tmp_path_factory):
    if not (os.path.exists("/usr/include/simde/x86/avx512.h") and shutil.which("gcc")
            and os.uname().machine == "x86_64"):
        pytest.skip("needs gcc and SIMDe (Debian: libsimde-dev) on x86-64")
    out = tmp_path_factory.mktemp("avx512-simde")
    r = subprocess.run([SCRIPT, "avx512-simde", str(out)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "WI_STREAM": str(stream_id(STREAM))})
    assert r.returncode in (0, 1), r.stderr
    return out, [line for line in r.stdout.splitlines() if line.startswith("differs: ")]


def test_avx512_code_paths_give_the_same_bits(avx512_simde):
    """Every fill case (also two over 1 MiB: the non-temporal stores; the complex
    disks; truncated normals far out in a tail) and both orthogonal matrices, through
    the AVX-512 intrinsics."""
    out, differing = avx512_simde
    assert differing == []
    assert len(list((out / "avx512-simde").glob("*.bin"))) == 40


def test_fills_are_the_same_bits_on_aarch64(cross):
    out, differing = cross
    fills = {d for d in differing if not d.startswith("orthogonal-")}
    assert fills == set(), f"aarch64 differs from x86 in {sorted(fills)}"
    assert len(list((out / "aarch64").glob("*-t1.bin"))) == 20


def test_native_driver_gives_the_golden_values(cross):
    out, _ = cross
    for (dist, dtype), digest in GOLDEN.items():
        for threads in (1, 3):
            data = (out / "native" / f"{dist}-{dtype}-t{threads}.bin").read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest, (dist, dtype, threads)
    assert (SEED, OFFSET, N) == (20261122, 1000, 3001), "scripts/cross_check.sh passes these values"


def test_native_driver_disks_are_the_python_apis(cross):
    """The driver's complex disks (float64/float32 parts from part offset OFFSET & ~1,
    N & ~1 parts) are what the Python API writes into complex128/complex64."""
    out, _ = cross
    for dist, kernel, params in (("disk", "disk", (0.1,)), ("disk_trunc", "disk_trunc_normal", (0.1, 2.0))):
        for dtype, ct in (("float64", np.complex128), ("float32", np.complex64)):
            here = np.empty((N & ~1) // 2, ct)
            _complex_fill(kernel, here, params, [("uniform", (-0.2, 0.2))], SEED, STREAM, (OFFSET & ~1) // 2, 1, None)
            for threads in (1, 3):
                data = (out / "native" / f"{dist}-{dtype}-t{threads}.bin").read_bytes()
                assert data == here.tobytes(), (dist, dtype, threads)


def test_orthogonal_float32_is_the_same_bits_on_aarch64(cross):
    out, differing = cross
    assert "orthogonal-float32.bin" not in differing
    q = np.frombuffer((out / "native" / "orthogonal-float32.bin").read_bytes(), np.float32).reshape(70, 50)
    here = wi.orthogonal_(np.empty((70, 50), np.float32), seed=SEED + 1, stream=0)
    assert q.tobytes() == here.tobytes()


def test_orthogonal_float64_is_the_same_bits_on_aarch64(cross):
    """The reflector norm uses our own hypot (csrc/wi_hypot.h), not libm's, whose
    rounding differs between x86-64 and aarch64 glibc."""
    _, differing = cross
    assert "orthogonal-float64.bin" not in differing
