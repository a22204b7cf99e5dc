"""Mini-batch SGD for the numpy MLP of weightinit.diagnostics (softmax cross-entropy)."""
from __future__ import annotations

import numpy as np

from ..diagnostics._nn import MLP, per_layer, resolve_scheme


def load_digits_split(test_fraction=0.25, split_seed=0):
    """scikit-learn's bundled 8x8 digits (1797 images, no download), standardized with
    training-set statistics, split with a fixed stratified permutation."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the experiment needs scikit-learn for its bundled digits data: "
                          "pip install 'weightinit[experiment]'") from None
    d = load_digits()
    x, y = d.data.astype(np.float64), d.target.astype(np.int64)
    rng = np.random.default_rng(split_seed)
    test_idx = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        test_idx.append(idx[: int(round(test_fraction * idx.size))])
    test_idx = np.sort(np.concatenate(test_idx))
    train = np.ones(y.size, bool)
    train[test_idx] = False
    mu, sd = x[train].mean(0), x[train].std(0)
    sd[sd == 0] = 1.0
    x = (x - mu) / sd
    return x[train], y[train], x[~train], y[~train]


def softmax_xent(logits, y):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = y.size
    loss = -np.mean(np.log(p[np.arange(n), y] + 1e-300))
    g = p
    g[np.arange(n), y] -= 1.0
    return loss, g / n


def accuracy(net, x, y):
    with np.errstate(all="ignore"):
        logits = net.forward(x)[1][-1]
    if not np.all(np.isfinite(logits)):
        return 0.0
    return float(np.mean(np.argmax(logits, axis=1) == y))


def train_mlp(data, *, hidden, depth, activation, scheme, seed, epochs, lr, batch_size, clip=None):
    """Train ``in -> hidden x depth -> 10`` with plain mini-batch SGD. Weights from
    ``scheme`` (streams ``"layer{i}.weight"``), biases zero, batch order from
    ``numpy.random.default_rng(seed)``. Returns dict with per-epoch ``test_acc``,
    ``train_loss`` (epoch 0 = before training) and ``diverged``."""
    xtr, ytr, xte, yte = data
    widths = [xtr.shape[1]] + [hidden] * depth + [int(ytr.max()) + 1]
    net = MLP.build(widths, activation, per_layer(scheme, len(widths) - 1, "scheme"), resolve_scheme("zeros", "bias"),
                    seed=seed, output_activation=False)
    rng = np.random.default_rng(seed)
    test_acc = [accuracy(net, xte, yte)]
    losses = [float(softmax_xent(net.forward(xtr)[1][-1], ytr)[0])]
    diverged = False
    for _ in range(epochs):
        order = rng.permutation(ytr.size)
        tot, cnt = 0.0, 0
        for s in range(0, ytr.size, batch_size):
            idx = order[s: s + batch_size]
            with np.errstate(all="ignore"):
                zs, hs = net.forward(xtr[idx])
                loss, g = softmax_xent(hs[-1], ytr[idx])
                dws, dbs, _ = net.backward(zs, hs, g)
            if not np.isfinite(loss):
                diverged = True
                break
            for w, b, dw, db in zip(net.weights, net.biases, dws, dbs):
                w -= lr * dw
                b -= lr * db
            tot += loss * idx.size
            cnt += idx.size
        if diverged:
            break
        losses.append(tot / cnt)
        test_acc.append(accuracy(net, xte, yte))
    while len(test_acc) < epochs + 1:   # a diverged run stays at its last (chance) accuracy
        test_acc.append(0.0)
        losses.append(float("nan"))
    return {"test_acc": np.array(test_acc), "train_loss": np.array(losses), "diverged": diverged}
