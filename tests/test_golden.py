"""Frozen output of the stream contract: these hashes change only with a
deliberate, versioned change of docs/streams.md."""
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
    ("normal", "float32"): "23b5304b3a7bb6c07d71d1305dd171994a1c9a9b26e7dcdfdc5da1d6b23c25e0",
    ("normal", "float16"): "b1389a29293861d56e9fa4228044073aef38dd4e7aff95e948ffae72b7bcc0fa",
    ("normal", "bfloat16"): "9f9249c5fb7bdb553f28c818d49aac0d722f50361398f0a4ea55f0412d4a01af",
    ("trunc_normal", "float64"): "28d14a9a69df9b5e6e2dc096ef606de55de4c107450bcff4e2b56b67efe65f17",
    ("trunc_normal", "float32"): "19c2c118699b84c1667c19326c8950420a986f582f3ebcd158f989019059cd7c",
    ("trunc_normal", "float16"): "58680e533922eaaf0aa0be7425705787500703c39067643f8dc19244a0a81031",
    ("trunc_normal", "bfloat16"): "60841423a11f2496c2bd86f2c32feef683d2e14f37f8df83c339d8d96050acbc",
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
                                  np.array([0.9911375641822815, -0.15363818407058716, -1.1863577365875244,
                                            -0.5954069495201111], np.float32))
