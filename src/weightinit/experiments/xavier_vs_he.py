"""Xavier (Glorot & Bengio 2010) vs He (He et al. 2015) initialization on handwritten
digits, under tanh and relu: the experiment of the Xavier/He blog post, reproducibly, in numpy.

The same MLP (64 inputs -> hidden layers -> 10 classes, softmax cross-entropy, plain
mini-batch SGD, zero biases) is trained on scikit-learn's bundled 8x8 digits (1797
images; 75/25 stratified split, no download) with Xavier (``xavier_normal``) and He
(``he_normal``) weights, under tanh and relu, for several seeds. Two variants: a
shallow net (2 hidden layers of 100) and a deep one (20 hidden layers of 64), where a
scheme that does not match the activation visibly fails (Xavier + relu: the signal
halves in variance at each layer and SGD cannot get started).
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from ._train import load_digits_split, train_mlp

__all__ = ["VARIANTS", "Run", "ExperimentResult", "run", "plot_learning_curves"]

#: name -> (hidden width, number of hidden layers, learning rate)
VARIANTS = {"shallow": (100, 2, 0.05), "deep": (64, 20, 0.02)}
SCHEMES = ("xavier_normal", "he_normal")
ACTIVATIONS = ("tanh", "relu")


@dataclasses.dataclass(frozen=True)
class Run:
    variant: str
    activation: str
    scheme: str
    seed: int
    test_acc: np.ndarray     #: per epoch, index 0 = before training
    train_loss: np.ndarray
    diverged: bool

    def epochs_to(self, threshold):
        hit = np.flatnonzero(self.test_acc >= threshold)
        return int(hit[0]) if hit.size else None


@dataclasses.dataclass(frozen=True)
class ExperimentResult:
    runs: tuple
    epochs: int
    threshold: float
    seeds: tuple

    def groups(self):
        keys = []
        for r in self.runs:
            k = (r.variant, r.activation, r.scheme)
            if k not in keys:
                keys.append(k)
        return {k: [r for r in self.runs if (r.variant, r.activation, r.scheme) == k] for k in keys}

    def rows(self):
        """One dict per (variant, activation, scheme) with the summary statistics."""
        out = []
        for (variant, act, sch), runs in self.groups().items():
            final = np.array([r.test_acc[-1] for r in runs])
            best = np.array([r.test_acc.max() for r in runs])
            ett = [r.epochs_to(self.threshold) for r in runs]
            hit = [e for e in ett if e is not None]
            out.append(dict(variant=variant, activation=act, scheme=sch, seeds=len(runs),
                            final_mean=float(final.mean()), final_std=float(final.std(ddof=1)) if len(runs) > 1 else 0.0,
                            final_min=float(final.min()), final_max=float(final.max()), best_mean=float(best.mean()),
                            reached=len(hit), epochs_to_mean=float(np.mean(hit)) if hit else None,
                            epochs_to_min=min(hit) if hit else None, epochs_to_max=max(hit) if hit else None,
                            diverged=sum(r.diverged for r in runs)))
        return out

    def table(self):
        t = f"{self.threshold:.0%}"
        head = (f"| variant | activation | scheme | final test acc (mean ± sd) | min–max | epochs to {t} (mean, range) "
                f"| runs reaching {t} |")
        lines = [head, "|" + "---|" * 7]
        for r in self.rows():
            hidden, depth, lr = VARIANTS[r["variant"]]
            var = f"{r['variant']} ({depth}x{hidden}, lr {lr:g})"
            if r["reached"]:
                ett = f"{r['epochs_to_mean']:.1f} ({r['epochs_to_min']}–{r['epochs_to_max']})"
            else:
                ett = f"never in {self.epochs}"
            lines.append(f"| {var} | {r['activation']} | {r['scheme']} | {r['final_mean']:.3f} ± {r['final_std']:.3f} "
                         f"| {r['final_min']:.3f}–{r['final_max']:.3f} | {ett} | {r['reached']}/{r['seeds']} |")
        return "\n".join(lines)


def _check_seq(value, name, allowed):
    if isinstance(value, str):
        value = (value,)
    value = tuple(value)
    if not value:
        raise ValueError(f"{name} must not be empty")
    for v in value:
        if v not in allowed:
            raise ValueError(f"{name} entries must be among {', '.join(allowed)}, got {v!r}")
    return value


def run(*, seeds=(0, 1, 2, 3, 4), epochs=30, variants=("shallow", "deep"), activations=ACTIVATIONS,
        schemes=SCHEMES, threshold=0.9, batch_size=32, backend="numpy", progress=None):
    """Train every (variant, activation, scheme, seed) and return an :class:`ExperimentResult`.
    ``backend`` is "numpy" (default, no torch needed) or "torch" (same weights and batches)."""
    from ..diagnostics._nn import check_int
    seeds = tuple(check_int(s, "seeds[]", minimum=0) for s in seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    epochs = check_int(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size")
    variants = _check_seq(variants, "variants", tuple(VARIANTS))
    activations = _check_seq(activations, "activations", ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu", "gelu"))
    schemes = _check_seq(schemes, "schemes", ("xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "lecun_normal"))
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}")
    if backend not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")
    data = load_digits_split()
    runs = []
    with _one_blas_thread():
        _run_all(data, runs, seeds, epochs, variants, activations, schemes, batch_size, backend, progress)
    return ExperimentResult(runs=tuple(runs), epochs=epochs, threshold=float(threshold), seeds=seeds)


def _one_blas_thread():
    """The matrices are small: one BLAS thread is faster than several and avoids
    oversubscription. threadpoolctl comes with scikit-learn."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _run_all(data, runs, seeds, epochs, variants, activations, schemes, batch_size, backend, progress):
    for variant in variants:
        hidden, depth, lr = VARIANTS[variant]
        for act in activations:
            for sch in schemes:
                for seed in seeds:
                    r = train_mlp(data, hidden=hidden, depth=depth, activation=act, scheme=sch, seed=seed,
                                  epochs=epochs, lr=lr, batch_size=batch_size, backend=backend)
                    runs.append(Run(variant, act, sch, seed, r["test_acc"], r["train_loss"], r["diverged"]))
                    if progress:
                        progress(f"{variant:>7} {act:>5} {sch:>13} seed {seed}: final test acc {r['test_acc'][-1]:.3f}")


def plot_learning_curves(result, path, *, dpi=80, figsize=None):
    """Test accuracy per epoch: one panel per variant, one line (mean over seeds, band =
    min..max) per (activation, scheme). Writes a PNG of figsize * dpi pixels."""
    from ..diagnostics.plots import _check_path, _pyplot, _save
    path = _check_path(path)
    plt = _pyplot()
    variants = []
    for r in result.runs:
        if r.variant not in variants:
            variants.append(r.variant)
    figsize = figsize or (6.0 * len(variants), 4.5)
    fig, axes = plt.subplots(1, len(variants), figsize=figsize, squeeze=False)
    styles = {("tanh", "xavier_normal"): ("C0", "-"), ("tanh", "he_normal"): ("C0", "--"),
              ("relu", "xavier_normal"): ("C3", "-"), ("relu", "he_normal"): ("C3", "--")}
    epochs = np.arange(result.epochs + 1)
    for ax, variant in zip(axes[0], variants):
        for (v, act, sch), runs in result.groups().items():
            if v != variant:
                continue
            acc = np.array([r.test_acc for r in runs])
            color, ls = styles.get((act, sch), (None, ":"))
            ax.plot(epochs, acc.mean(0), color=color, ls=ls, label=f"{act} + {sch.replace('_normal', '')}")
            if len(runs) > 1:
                ax.fill_between(epochs, acc.min(0), acc.max(0), color=color, alpha=0.15)
        hidden, depth, lr = VARIANTS[variant]
        ax.axhline(result.threshold, color="gray", lw=0.8, ls=":")
        ax.set_title(f"{variant}: {depth} hidden layers x {hidden}, SGD lr {lr:g}, {len(result.seeds)} seed(s)", fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy (digits)")
        ax.set_ylim(0, 1)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return _save(fig, path, dpi)


def main(argv=None, prog="python -m weightinit.experiments xavier-vs-he"):
    import argparse
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    add_arguments(p)
    return run_cli(p.parse_args(argv))


def add_arguments(p):
    p.add_argument("--seeds", type=int, default=5, help="number of seeds (0..n-1), default 5")
    p.add_argument("--epochs", type=int, default=30, help="epochs per run (default 30)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                   help="networks to train: shallow (2 hidden layers of 100), deep (20 of 64); default both")
    p.add_argument("--threshold", type=float, default=0.9, help="accuracy for the epochs-to-accuracy column (0.9)")
    p.add_argument("--out", default="xavier_vs_he", help="output directory for the PNG and the table (default ./xavier_vs_he)")
    p.add_argument("--backend", default="numpy", choices=["numpy", "torch"],
                   help="train with the numpy backprop (default) or torch autograd (needs torch)")
    p.add_argument("--no-plot", action="store_true", help="skip the learning-curve PNG")
    p.add_argument("--quiet", action="store_true", help="print only the final table, no per-run progress")


def run_cli(args):
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    res = run(seeds=tuple(range(args.seeds)), epochs=args.epochs, variants=tuple(args.variants),
              threshold=args.threshold, backend=args.backend, progress=None if args.quiet else print)
    os.makedirs(args.out, exist_ok=True)
    table = res.table()
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    if not args.no_plot:
        png = plot_learning_curves(res, os.path.join(args.out, "learning_curves.png"))
        print(f"learning curves: {png}")
    print(f"table: {os.path.join(args.out, 'table.md')}")
    return 0
