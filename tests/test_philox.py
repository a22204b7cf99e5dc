"""Philox4x32-10 against the Random123 known-answer vectors, and the documented
mapping from (seed, stream, index) to counter/key (docs/streams.md)."""
import numpy as np
import pytest

import weightinit as wi
from weightinit._streams import stream_id

# Random123 kat_vectors, philox4x32_10
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_known_answers(ctr, key, expected):
    assert wi.philox4x32(ctr, key) == expected


@pytest.mark.parametrize("ctr,key", [((0, 0, 0), (0, 0)), ((0, 0, 0, 0), (0,)), ((0, 0, 0, 2**32), (0, 0)),
                                     ((0, 0, 0, -1), (0, 0)), ((0, 0, 0, 0.5), (0, 0))])
def test_bad_words(ctr, key):
    with pytest.raises(ValueError):
        wi.philox4x32(ctr, key)


def _words(seed, stream, block):
    return wi.philox4x32((block & 0xFFFFFFFF, block >> 32, stream & 0xFFFFFFFF, stream >> 32),
                         (seed & 0xFFFFFFFF, seed >> 32))


@pytest.mark.parametrize("offset", [0, 511, 2**40 + 3])
def test_float64_uniform_follows_documented_mapping(offset):
    """Element i: tile i // 512, block tile*256 + i % 256, words 2h, 2h+1 with
    h = (i % 512) // 256, u = (x >> 11) * 2**-53, value = low + (high - low) * u."""
    seed, stream, low, high = 2**63 + 12345, "encoder.layer.3.weight", -3.0, 5.0
    out = wi.uniform_(np.empty(700), low, high, seed=seed, stream=stream, offset=offset)
    sid = stream_id(stream)
    for k in [0, 1, 255, 256, 300, 699]:
        i = offset + k
        r = i % 512
        w = _words(seed, sid, (i // 512) * 256 + r % 256)
        h = r // 256
        x = w[2 * h] | (w[2 * h + 1] << 32)
        assert out[k] == low + (high - low) * ((x >> 11) * 2.0**-53), k


def test_float32_uniform_follows_documented_mapping():
    """Element i: tile i // 1024, block tile*256 + i % 256, word (i % 1024) // 256,
    u = (w >> 8) * 2**-24 and low + (high - low) * u in float32."""
    seed, stream = 7, 99
    out = wi.uniform_(np.empty(3000, np.float32), -1.0, 1.0, seed=seed, stream=stream)
    for i in [0, 5, 256, 700, 1023, 1024, 2999]:
        r = i % 1024
        w = _words(seed, stream, (i // 1024) * 256 + r % 256)[r // 256]
        u = np.float32(w >> 8) * np.float32(2.0**-24)
        assert out[i] == np.float32(-1.0) + np.float32(2.0) * u, i


def test_string_stream_hash_is_sha256_prefix():
    import hashlib
    name = "model.layers.0.self_attn.q_proj.weight"
    assert stream_id(name) == int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")
    assert stream_id(17) == 17
