"""Frozen output of the stream contract (version 2): these hashes change only
with a deliberate, versioned change of docs/streams.md. Version 2 changed the
float32 normal (no exact zeros) and every trunc_normal on an interval holding
the mean (the centre formula pivots at the mean, docs/streams.md)."""
import hashlib

import numpy as np
import pytest

import weightinit as wi

from conftest import DTYPES

SEED, STREAM, OFFSET, N = 20261122, "layers.0.weight", 1000, 3001

CALLS = {
    "uniform": lambda a: wi.uniform_(a, -0.5, 2.0, seed=SEED, stream=STREAM, offset=OFFSET),
    "normal": lambda a: wi.normal_(a, 0.1, 0.02, seed=SEED, stream=STREAM, offset=OFFSET),
    "trunc_normal": lambda a: wi.trunc_normal_(a, 0.0, 1.0, -2.0, 2.0, seed=SEED, stream=STREAM, offset=OFFSET),
}

GOLDEN = {
    ("uniform", "float64"): "3c009bb9ac9c484cf4ba377943163df590f3e81b5914409e4ddc4746db08469b",
    ("uniform", "float32"): "447323b9c3e747823c082bf7e16196d07469e94d1cea1f39377d66add54e3c76",
    ("uniform", "float16"): "f78fc28d66ce429abea646db0a66706ab95984992cd815e58744481174ce6a7f",
    ("uniform", "bfloat16"): "7605e40c2bf8815d4953eee5a2a453df1eb3909a6264197555862376be56af87",
    ("normal", "float64"): "46ec81cc81540e83c99e230ed391894ad8c31fea5be49c1d3e5f2393070b2d69",
    ("normal", "float32"): "bbfe4d32258b47ffa7cc428870f7158c40da0c0f0e1ae94fe4488082ac53b33c",
    ("normal", "float16"): "b1389a29293861d56e9fa4228044073aef38dd4e7aff95e948ffae72b7bcc0fa",
    ("normal", "bfloat16"): "9f9249c5fb7bdb553f28c818d49aac0d722f50361398f0a4ea55f0412d4a01af",
    ("trunc_normal", "float64"): "6fca3c1b7fabee5799fa8ede0ee680e98405ba04e8a8e3efa3598f81ec5a9a44",
    ("trunc_normal", "float32"): "b60ae26272285a07fdef5b7fb4ceff88d60b04b35438504f19ac70fd1c1215bd",
    ("trunc_normal", "float16"): "d1e70509c28497b399ba3cbdb85aaf101987e2315bd28c747fa5bbe2fe4bce22",
    ("trunc_normal", "bfloat16"): "43dd3bf819f7223b00ad56a35055c59b5789416025eb194a8e4a2097b8b981d0",
}


@pytest.mark.parametrize("dist,dtype_name", sorted(GOLDEN))
def test_golden_hash(dist, dtype_name, monkeypatch):
    for path in wi.available_simd_paths():
        monkeypatch.setenv("WEIGHTINIT_SIMD", path)
        out = CALLS[dist](np.empty(N, DTYPES[dtype_name]))
        assert hashlib.sha256(out.tobytes()).hexdigest() == GOLDEN[dist, dtype_name], path


def test_first_values_readable():
    """The first standard normals of seed 0, stream 0, as numbers."""
    np.testing.assert_array_equal(wi.normal_(np.empty(4), seed=0),
                                  [-0.3976675384441823, 1.386844427102838, -0.20578628896422402, -1.1881760013797498])
    np.testing.assert_array_equal(wi.normal_(np.empty(4, np.float32), seed=0),
                                  np.array([0.9911377429962158, -0.15363818407058716, -1.1863579750061035,
                                            -0.5954070091247559], np.float32))
