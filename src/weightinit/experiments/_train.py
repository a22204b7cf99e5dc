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


def train_mlp(data, *, hidden, depth, activation, scheme, seed, epochs, lr, batch_size, backend="numpy"):
    """Train ``in -> hidden x depth -> 10`` with plain mini-batch SGD. Weights from
    ``scheme`` (streams ``"layer{i}.weight"``), biases zero, batch order from
    ``numpy.random.default_rng(seed)``. Returns dict with per-epoch ``test_acc``,
    ``train_loss`` (epoch 0 = before training) and ``diverged``.

    ``backend="torch"`` trains the same network (same initial weights, same batches,
    float64) with torch autograd and ``torch.optim.SGD``: a cross-check of the numpy
    backprop."""
    xtr, ytr, xte, yte = data
    widths = [xtr.shape[1]] + [hidden] * depth + [int(ytr.max()) + 1]
    net = MLP.build(widths, activation, per_layer(scheme, len(widths) - 1, "scheme"), resolve_scheme("zeros", "bias"),
                    seed=seed, output_activation=False)
    if backend == "torch":
        return _train_torch(net, data, seed=seed, epochs=epochs, lr=lr, batch_size=batch_size)
    if backend != "numpy":
        raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")
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


def _train_torch(net, data, *, seed, epochs, lr, batch_size):
    try:
        import torch
    except ImportError:
        raise ImportError("backend='torch' needs PyTorch: pip install 'weightinit[torch]'") from None
    nn = torch.nn
    acts = {"linear": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "selu": nn.SELU,
            "leaky_relu": lambda: nn.LeakyReLU(net.slope), "gelu": lambda: nn.GELU(approximate="tanh")}
    mods = []
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        lin = nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
        if i < len(net.weights) - 1:
            mods.append(acts[net.activation]())
    model = nn.Sequential(*mods)
    xtr, ytr, xte, yte = (torch.from_numpy(a) for a in data)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)

    def evaluate():
        with torch.no_grad():
            logits = model(xte)
            if not torch.isfinite(logits).all():
                return 0.0, float(nn.functional.cross_entropy(model(xtr), ytr))
            return float((logits.argmax(1) == yte).double().mean()), float(nn.functional.cross_entropy(model(xtr), ytr))

    acc0, loss0 = evaluate()
    test_acc, losses, diverged = [acc0], [loss0], False
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(ytr.numel()))
        tot, cnt = 0.0, 0
        for s in range(0, ytr.numel(), batch_size):
            idx = order[s: s + batch_size]
            loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
            if not torch.isfinite(loss):
                diverged = True
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item() * idx.numel()
            cnt += idx.numel()
        if diverged:
            break
        losses.append(tot / cnt)
        test_acc.append(evaluate()[0])
    while len(test_acc) < epochs + 1:
        test_acc.append(0.0)
        losses.append(float("nan"))
    return {"test_acc": np.array(test_acc), "train_loss": np.array(losses), "diverged": diverged}
