"""Minimal PNG checks without PIL: signature, IHDR size, IEND."""
import struct


def png_size(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} does not start with the PNG signature: {data[:8]!r}"
    assert data[12:16] == b"IHDR", f"{path}: first chunk is {data[12:16]!r}, not IHDR"
    assert data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"), f"{path} does not end with an IEND chunk"
    assert len(data) > 2000, f"{path} is suspiciously small ({len(data)} bytes)"
    return struct.unpack(">II", data[16:24])


import pytest


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Small matrices on 2 shared cores: one BLAS thread avoids oversubscription."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
