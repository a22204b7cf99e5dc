"""Orthogonal initialization (Householder kernel): not implemented yet."""
from __future__ import annotations

__all__ = ["orthogonal_", "orthogonalize_", "delta_orthogonal_"]


def orthogonal_(out, gain=1.0, *, seed=None, stream=0, threads=None):
    raise NotImplementedError("orthogonal_ needs the Householder kernel, which has not landed yet")


def orthogonalize_(a, *, threads=None):
    raise NotImplementedError("orthogonalize_ needs the Householder kernel, which has not landed yet")


def delta_orthogonal_(out, gain=1.0, *, seed=None, stream=0, threads=None):
    raise NotImplementedError("delta_orthogonal_ needs the Householder kernel, which has not landed yet")
