"""The Xavier-vs-He experiment, reduced (one seed, few epochs), and its commands."""
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from weightinit.experiments import xavier_vs_he as xh  # noqa: E402
from weightinit.experiments._train import load_digits_split  # noqa: E402

from _diag_helpers import one_blas_thread, png_size  # noqa: E402,F401


def test_digits_split_is_stratified_and_disjoint():
    xtr, ytr, xte, yte = load_digits_split()
    assert xtr.shape == (1347, 64) and xte.shape == (450, 64)
    assert np.all(np.abs(np.bincount(yte) - 45) <= 1), np.bincount(yte)
    assert abs(xtr.mean()) < 1e-10 and abs(xtr[:, xtr.std(0) > 0].std(0).mean() - 1) < 1e-10
    # no test image also in the training set (digits has no exact duplicates across our split)
    tr = {r.tobytes() for r in xtr}
    assert sum(r.tobytes() in tr for r in xte) == 0


def test_reduced_shallow_experiment_learns(tmp_path):
    res = xh.run(seeds=(0,), epochs=2, variants=("shallow",))
    rows = res.rows()
    assert [(r["activation"], r["scheme"]) for r in rows] == [
        ("tanh", "xavier_normal"), ("tanh", "he_normal"), ("relu", "xavier_normal"), ("relu", "he_normal")]
    for run in res.runs:
        assert run.test_acc.shape == (3,)
        assert run.test_acc[0] < 0.3, f"{run.activation}/{run.scheme}: untrained accuracy {run.test_acc[0]}"
        assert run.test_acc[-1] > 0.8, f"{run.activation}/{run.scheme}: accuracy after 2 epochs {run.test_acc[-1]}"
        assert run.train_loss[-1] < run.train_loss[0]
    table = res.table()
    assert table.count("\n") == 5 and "shallow" in table and "epochs to 90%" in table, table
    png = xh.plot_learning_curves(res, tmp_path / "lc.png", dpi=50)
    assert png_size(png) == (300, 225)


def test_reduced_deep_relu_xavier_fails_he_trains():
    # depth 20, relu: Xavier loses half the signal variance per layer and SGD does not start
    res = xh.run(seeds=(0,), epochs=8, variants=("deep",), activations=("relu",))
    acc = {r.scheme: r.test_acc for r in res.runs}
    assert acc["xavier_normal"].max() < 0.25, f"deep relu Xavier accuracy per epoch {acc['xavier_normal']}"
    assert acc["he_normal"][-1] > 0.5, f"deep relu He accuracy per epoch {acc['he_normal']}"


def test_experiment_is_reproducible():
    a = xh.run(seeds=(1,), epochs=1, variants=("shallow",), activations=("relu",), schemes=("he_normal",))
    b = xh.run(seeds=(1,), epochs=1, variants=("shallow",), activations=("relu",), schemes=("he_normal",))
    np.testing.assert_array_equal(a.runs[0].test_acc, b.runs[0].test_acc)
    np.testing.assert_array_equal(a.runs[0].train_loss, b.runs[0].train_loss)


def test_experiment_bad_input():
    with pytest.raises(ValueError, match="seeds"):
        xh.run(seeds=())
    with pytest.raises(ValueError, match="variants"):
        xh.run(variants=("huge",))
    with pytest.raises(ValueError, match="threshold"):
        xh.run(threshold=1.5)
    with pytest.raises(ValueError, match="epochs"):
        xh.run(epochs=0)


def test_cli_experiment(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from weightinit.cli import main
    out = tmp_path / "exp"
    assert main(["experiment", "xavier-vs-he", "--seeds", "1", "--epochs", "1", "--variants", "shallow",
                 "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "| shallow" in text and (out / "table.md").read_text().strip() in text
    png_size(out / "learning_curves.png")
    assert main(["experiment", "xavier-vs-he", "--seeds", "0", "--out", str(out)]) == 2
    assert "--seeds" in capsys.readouterr().err


def test_python_m_experiments_help():
    r = subprocess.run([sys.executable, "-m", "weightinit.experiments", "xavier-vs-he", "--help"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "--seeds" in r.stdout, r.stderr


def test_torch_backend_matches_numpy_backprop():
    pytest.importorskip("torch")
    kw = dict(seeds=(0,), epochs=2, variants=("shallow",), schemes=("he_normal",))
    a = xh.run(backend="numpy", **kw)
    b = xh.run(backend="torch", **kw)
    for ra, rb in zip(a.runs, b.runs):
        # same float64 weights, same batches: the two backprops agree to rounding
        np.testing.assert_allclose(ra.train_loss, rb.train_loss, rtol=1e-6,
                                   err_msg=f"{ra.activation}: numpy vs torch training loss per epoch")
        np.testing.assert_allclose(ra.test_acc, rb.test_acc, atol=1 / 450 + 1e-12)
    with pytest.raises(ValueError, match="backend"):
        xh.run(backend="jax", **kw)
