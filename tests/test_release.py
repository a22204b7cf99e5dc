"""Releases: one version, a changelog entry for it, artifacts that build and install
anywhere (sdist -> wheel in a fresh venv, no AVX in the baseline code), a benchmark
page that agrees with the recorded results, and the gate's verdict logic."""
import glob
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile

import numpy as np
import pytest

import weightinit as wi

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_release():
    """benchmarks/release.py loaded by path: putting benchmarks/ on sys.path would let
    its scripts shadow installed modules for the rest of the run."""
    spec = importlib.util.spec_from_file_location("weightinit_bench_release", os.path.join(ROOT, "benchmarks", "release.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release = _load_release()


def test_one_version():
    assert importlib.metadata.version("weightinit") == wi.__version__
    with open(os.path.join(ROOT, "pyproject.toml")) as fh:
        pyproject = fh.read()
    assert 'dynamic = ["version"]' in pyproject and not re.search(r'^version\s*=', pyproject, re.M)


def test_changelog_has_this_version_and_says_what_happened_to_the_contract():
    with open(os.path.join(ROOT, "CHANGELOG.md")) as fh:
        text = fh.read()
    entries = re.split(r"^## ", text, flags=re.M)[1:]
    versions = [e.split("\n", 1)[0].strip() for e in entries]
    assert versions[0] == wi.__version__, "the newest changelog entry must be the package's version"
    assert all("Stream contract:" in e for e in entries), "every entry says what happened to the stream contract"


def test_benchmark_page_agrees_with_recorded_results(capsys):
    assert release.docs(check=True) == 0, capsys.readouterr().err
    results = glob.glob(os.path.join(ROOT, "benchmarks", "results", "*", "*.json"))
    assert results, "no recorded results"


def test_cpu_class():
    assert release.cpu_class({"flags": ["avx2", "avx512f"]}).endswith("-avx512")
    assert release.cpu_class({"flags": ["avx2", "fma"]}).endswith("-avx2")
    assert release.cpu_class({"flags": ["asimd"]}) == f"{platform.machine()}-portable"


def test_gate_flags_a_kernel_slower_in_most_rounds_only():
    rounds = [{"a": (1.0, 1.02), "b": (1.0, 1.30), "c": (1.0, 0.80)},
              {"a": (1.0, 0.97), "b": (1.0, 1.25), "c": (1.0, 1.40)},   # one noisy round of c
              {"a": (1.0, 1.05), "b": (1.0, 1.20), "c": (1.0, 0.90)}]
    rows = {name: (med, lo, hi, slower) for name, med, lo, hi, slower in release.compare_rounds(rounds, 0.10)}
    assert rows["a"][3] is False and rows["c"][3] is False
    assert rows["b"][3] is True and rows["b"][0] == pytest.approx(1.25)
    assert rows["c"][1:3] == (pytest.approx(0.8), pytest.approx(1.4))


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))}:\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    """sdist built from the tree, then the wheel built from the sdist (offline: no
    build isolation, the build tools of this environment)."""
    for mod in ("build", "scikit_build_core", "Cython"):
        pytest.importorskip(mod)
    if shutil.which("cmake") is None and not glob.glob(os.path.join(os.path.dirname(sys.executable), "cmake")):
        pytest.skip("no cmake")
    tmp = tmp_path_factory.mktemp("release")
    _run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(tmp / "dist"), ROOT])
    sdist = glob.glob(str(tmp / "dist" / "*.tar.gz"))[0]
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp / "dist"),
          sdist], cwd=str(tmp))
    wheel = glob.glob(str(tmp / "dist" / "*.whl"))[0]
    return tmp, sdist, wheel


def test_sdist_holds_what_an_offline_build_needs(artifacts):
    _, sdist, wheel = artifacts
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    tracked = _run(["git", "ls-files", "csrc", "cmake", "src/weightinit"], cwd=ROOT).stdout.split()
    needed = {n for n in tracked if n.endswith((".c", ".h", ".cmake", ".pyx", ".pxi", ".pyi"))}
    needed |= {"CMakeLists.txt", "pyproject.toml", "README.md", "CHANGELOG.md", "docs/streams.md",
               "docs/checkpoints.md", "docs/benchmarks.md", "docs/diagnostics.md", "docs/releasing.md"}
    assert needed - names == set()
    assert os.path.basename(sdist) == f"weightinit-{wi.__version__}.tar.gz"
    assert f"weightinit-{wi.__version__}-" in os.path.basename(wheel)
    pytest.importorskip("twine")
    _run([sys.executable, "-m", "twine", "check", "--strict", sdist, wheel])


@pytest.fixture(scope="module")
def fresh_venv(artifacts):
    """A new venv holding only the wheel; numpy and the other dependencies are seen
    through a .pth after its own site-packages, so the wheel's weightinit wins."""
    tmp, _, wheel = artifacts
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = str(venv / "bin" / "python")
    site = _run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    # the wheel first: with the .pth in place pip would see this environment's weightinit as installed
    _run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel])
    deps = os.path.dirname(np.__path__[0])
    with open(os.path.join(site, "zz_test_dependencies.pth"), "w") as fh:
        fh.write(deps + "\n")
    return venv, py


PROBE = ("import hashlib, numpy as np, weightinit as wi; "
         "a = np.empty(100003, np.float32); wi.normal_(a, seed=3, stream='probe'); "
         "b = np.empty((96, 64), np.float32); wi.orthogonal_(b, seed=4); "
         "print(wi.__file__); print(wi.__version__, wi.simd_path()); "
         "print(hashlib.sha256(a.tobytes() + b.tobytes()).hexdigest())")


def _probe_here():
    a = np.empty(100003, np.float32)
    wi.normal_(a, seed=3, stream="probe")
    b = np.empty((96, 64), np.float32)
    wi.orthogonal_(b, seed=4)
    import hashlib
    return hashlib.sha256(a.tobytes() + b.tobytes()).hexdigest()


def test_wheel_from_the_sdist_installs_and_gives_the_same_bits(fresh_venv):
    venv, py = fresh_venv
    out = _run([py, "-c", PROBE], cwd="/").stdout.split("\n")
    assert out[0].startswith(str(venv)), f"imported {out[0]}, not the wheel"
    assert out[1].split()[0] == wi.__version__
    assert out[2] == _probe_here()


def test_baseline_code_runs_on_a_cpu_without_avx(fresh_venv):
    """One x86-64 wheel serves every machine: under an emulated CPU without AVX the
    dispatch must pick the portable path and nothing else may use AVX (SIGILL)."""
    if platform.machine() != "x86_64":
        pytest.skip("x86-64 only")
    qemu = shutil.which("qemu-x86_64") or shutil.which("qemu-x86_64-static")
    if qemu is None:
        pytest.skip("qemu-user is not installed (Debian: qemu-user)")
    _, py = fresh_venv
    r = subprocess.run([qemu, "-cpu", "Nehalem", py, "-c", PROBE], capture_output=True, text=True, cwd="/",
                       timeout=600)
    assert r.returncode == 0, f"exit {r.returncode} (SIGILL is -4):\n{r.stderr[-2000:]}"
    out = r.stdout.split("\n")
    assert out[1].split()[1] == "scalar"
    assert out[2] == _probe_here(), "the portable path must give the same bits"


def test_benchmark_scripts_never_shadow_installed_modules():
    # transformers' `from kernels import ...` once found benchmarks/kernels.py because the
    # benchmarks folder was on sys.path for the whole test run
    folder = os.path.realpath(os.path.join(ROOT, "benchmarks"))
    assert folder not in {os.path.realpath(p) for p in sys.path if p}
    assert os.path.exists(os.path.join(folder, "__init__.py"))
