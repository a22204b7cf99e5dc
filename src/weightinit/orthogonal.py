"""Orthogonal initialization with the Householder kernel (csrc/householder.c)."""
from __future__ import annotations

import math
import numbers
import threading

import numpy as np

from . import _core, _limits
from ._buffers import complex_parts, writable_buffer
from ._regions import resolve_block
from ._simd import isa_code
from ._streams import resolve_seed, stream_id
from ._threads import resolve_threads

__all__ = ["orthogonal_", "orthogonalize_", "delta_orthogonal_"]


def _gain(gain) -> float:
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real):
        raise TypeError(f"gain must be a real number, got {type(gain).__name__} {gain!r}")
    gain = float(gain)
    if not math.isfinite(gain):
        raise ValueError(f"gain must be finite, got {gain}")
    return gain


def _matrix_shape(out, name: str) -> tuple[int, int]:
    if out.ndim < 2:
        raise ValueError(f"{name} must have at least 2 dimensions (rows = shape[0], "
                         f"cols = product of the rest), got shape {out.shape}")
    rows = out.shape[0]
    cols = out.size // rows if rows else math.prod(out.shape[1:])
    return rows, cols


def _target(out, name="out"):
    """(address, dtype name, is complex): complex64/complex128 go to the complex
    Householder path with their part dtype (float32/float64)."""
    parts = complex_parts(out, name)
    if parts is None:
        ptr, _, dt = writable_buffer(out, name)
        return ptr, dt, False
    ptr, _, dt = writable_buffer(parts, name)
    return ptr, dt, True


# Work (M * N * columns formed) from which a call runs in a helper thread so that Ctrl-C
# is seen at once (about 20 ms of work; below it the call returns about as soon).
INTERRUPTIBLE_WORK = 1 << 24


def _interruptible(call, work):
    """Run call(cancel) so that a KeyboardInterrupt arrives within about 0.1 s: the C
    driver runs in a helper thread (it holds no GIL) and polls the int at address
    `cancel` between panels and product chunks, while this thread waits in short
    slices, in which Python runs its signal handlers. On Ctrl-C the flag is set, the
    helper stops at its next poll (milliseconds), and the interrupt is re-raised here."""
    if work < INTERRUPTIBLE_WORK or threading.current_thread() is not threading.main_thread():
        return call(0)       # only the main thread receives signals
    flag = np.zeros(1, np.intc)
    failure = []

    def run():
        try:
            call(flag.ctypes.data)
        except BaseException as exc:     # re-raised in the caller's thread
            failure.append(exc)
    helper = threading.Thread(target=run, name="weightinit-orthogonal", daemon=True)
    helper.start()
    try:
        while helper.is_alive():
            helper.join(0.05)
    except KeyboardInterrupt:
        flag[0] = 1
        while helper.is_alive():         # out must not be written once we return
            try:
                helper.join()
            except KeyboardInterrupt:
                pass
        raise
    if failure:
        raise failure[0]


def _haar(ptr, rows, cols, dt, cplx, g, s, st, th, isa):
    fn = _core.orthogonal_complex if cplx else _core.orthogonal
    m, n = max(rows, cols), min(rows, cols)
    _interruptible(lambda cancel: fn(ptr, rows, cols, dt, g, s, st, th, isa, cancel), m * n * n)


class _MatrixBlock:
    """Where an N-d block of a tensor of shape gs (viewed as gs[0] x prod(gs[1:]))
    lies in that matrix: rows r0..r0+h, and its columns inside the column range
    c0..c0+w; `pick` (None when they are exactly that range, in order) selects them."""

    def __init__(self, gs, start, shape):
        self.rows, self.cols = gs[0], math.prod(gs[1:])
        self.r0, self.h = start[0], shape[0]
        self.pick = None
        tail = tuple(shape[1:])
        n = math.prod(tail)
        if n == 0:
            self.c0 = self.w = 0
            return
        first = int(np.ravel_multi_index(start[1:], gs[1:]))     # gs has >= 2 dimensions
        last = int(np.ravel_multi_index(tuple(s + k - 1 for s, k in zip(start[1:], tail)), gs[1:]))
        self.c0, self.w = first, last + 1 - first
        if self.w != n:   # trailing dimensions not whole: the block's columns are scattered
            grids = np.meshgrid(*(np.arange(s, s + k) for s, k in zip(start[1:], tail)), indexing="ij")
            self.pick = np.ravel_multi_index(tuple(g.ravel() for g in grids), gs[1:]) - first


def _orthogonal_block(out, dt, cplx, gs, start, g, s, st, th, isa):
    """out <- its block of the whole orthogonal_ result of shape gs."""
    b = _MatrixBlock(gs, start, out.shape)
    if b.h == 0 or b.w == 0:
        return
    if b.pick is None:
        dest = out
    else:
        dest = np.empty((b.h, b.w), dtype=out.dtype)
    ptr = dest.__array_interface__["data"][0]
    tall = b.rows >= b.cols
    m, q1 = max(b.rows, b.cols), (b.c0 + b.w if tall else b.r0 + b.h)
    fn = _core.orthogonal_complex_block if cplx else _core.orthogonal_block
    _interruptible(lambda cancel: fn(ptr, b.rows, b.cols, b.r0, b.c0, b.h, b.w, dt, g, s, st, th, isa, cancel),
                   m * q1 * (b.w if tall else b.h))
    if b.pick is not None:
        out[...] = dest[:, b.pick].reshape(out.shape)


def orthogonal_(out, gain=1.0, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
    r"""Fill `out` in place with a (semi-)orthogonal matrix drawn from the Haar
    measure, times `gain`.

    `out` is viewed as a matrix of ``rows = out.shape[0]`` and
    ``cols = prod(out.shape[1:])`` (as ``torch.nn.init.orthogonal_``). With
    ``M = max(rows, cols)``, ``N = min(rows, cols)`` the kernel samples an
    ``M x N`` matrix ``Q`` with orthonormal columns, uniformly (Haar) on the
    Stiefel manifold, and writes ``gain * Q`` (rows >= cols) or ``gain * Q^T``
    (rows < cols, orthonormal rows).

    ``Q = H_1 H_2 ... H_N [I; 0] D`` where ``H_j`` is the Householder reflector
    that maps a standard normal vector ``x_j`` of length ``M - j + 1`` onto a
    multiple ``beta_j e_1`` and ``D = diag(sign(beta_j))`` (Stewart 1980): the
    same distribution as the Q factor of the QR decomposition, with positive
    diagonal of R, of an ``M x N`` Gaussian matrix, at half the cost
    (``2 M N^2 - 2 N^3 / 3`` flops). The reflectors are applied in blocks
    (compact WY), multithreaded. ``x_j`` is the lower part of column ``j`` of a
    column-major ``M x N`` matrix of normal samples of stream ``(seed, stream)``
    (flat index ``j*M + i``), so the result is a pure function of
    ``(seed, stream, rows, cols, dtype)``, identical for any thread count and
    SIMD path. float64 is computed in float64; float32, float16, bfloat16 and
    float8 in float32 (narrower outputs rounded once, to nearest even).

    complex64/complex128 outputs get a Haar-distributed unitary matrix (orthonormal
    columns or rows in the Hermitian sense): the same product with complex
    reflectors ``H = I - tau v v^H`` of circular complex normal vectors and
    ``D = diag(-x_j0/|x_j0|)``, computed in float64 (unblocked) and rounded once.

    Parameters
    ----------
    out : numpy.ndarray
        Writable, C-contiguous, at least 2-D array of float64, float32,
        float16 or ``ml_dtypes.bfloat16``.
    gain : float
        Finite scale factor.
    seed : int or None
        In ``[0, 2**64)``; None draws one from the OS.
    stream : int or str
        Independent stream; a str (e.g. a parameter name) is hashed.
    threads : int or None
        None uses ``WEIGHTINIT_NUM_THREADS`` or every usable core. The result
        does not depend on it.
    global_shape, offset : tuple of int, optional
        `out` is the block ``W[offset[0]:offset[0]+out.shape[0], ...]`` of the
        result ``W`` of shape `global_shape` (``offset`` = start indices, one
        per dimension), equal to it bit for bit, computed without forming
        ``W``: only the columns of ``Q`` that the block touches are formed, full
        height, from the reflectors they need (regenerated from the stream), in
        slabs of about ``out.size / M`` columns (at least 512). Complex outputs
        too (their unblocked reflectors one by one, each from its own samples).
        See ``docs/distributed.md`` for the time and memory it costs.

    Returns
    -------
    out

    References
    ----------
    G. W. Stewart, "The efficient generation of random orthogonal matrices with
    an application to condition estimators", SIAM J. Numer. Anal. 17 (1980).
    R. Schreiber, C. Van Loan, "A storage-efficient WY representation for
    products of Householder transformations", SIAM J. Sci. Stat. Comput. 10 (1989).
    A. M. Saxe et al., "Exact solutions to the nonlinear dynamics of learning in
    deep linear neural networks", ICLR 2014.

    Examples
    --------
    >>> import numpy as np, weightinit as wi
    >>> w = wi.orthogonal_(np.empty((512, 256), np.float32), seed=0)
    >>> bool(np.allclose(w.T @ w, np.eye(256), atol=1e-5))
    True
    """
    ptr, dt, cplx = _target(out)
    rows, cols = _matrix_shape(out, "out")
    region = resolve_block(out, global_shape, offset)
    g = _gain(gain)
    _limits.check_gain(g, dt)
    s = resolve_seed(seed)
    st = stream_id(stream)
    th = resolve_threads(threads)
    if region is not None:
        _orthogonal_block(out, dt, cplx, region[0], region[1], g, s, st, th, isa_code())
    else:
        _haar(ptr, rows, cols, dt, cplx, g, s, st, th, isa_code())
    return out


def orthogonalize_(a, *, threads=None):
    r"""Replace `a` in place by the orthogonal factor of its QR decomposition,
    with the canonical signs (positive diagonal of R).

    `a` is viewed as ``rows x cols`` like in :func:`orthogonal_`. For
    ``rows >= cols`` the result is the ``Q`` of ``a = Q R`` (orthonormal
    columns); for ``rows < cols`` it is ``Q^T`` with ``a^T = Q R`` (orthonormal
    rows; the ``Q`` of the LQ decomposition). With ``diag(R) > 0`` the factor is
    unique for a matrix of full rank. Blocked Householder QR (compact WY), then
    ``Q`` formed in place; float16/bfloat16 computed in float32 and rounded
    once. complex64/complex128 give the unitary factor (real positive diag(R);
    for ``rows < cols`` the transpose, as in :func:`orthogonal_`), computed in
    float64 by unblocked complex reflectors. The result does not depend on
    `threads` or on the SIMD path.

    Raises ValueError if `a` contains NaN or infinity.
    """
    ptr, dt, cplx = _target(a, "a")
    rows, cols = _matrix_shape(a, "a")
    th = resolve_threads(threads)
    isa = isa_code()
    if not np.isfinite(a).all():
        raise ValueError("a must contain only finite values")
    if cplx:
        _core.orthogonalize_complex(ptr, rows, cols, dt, th)
    else:
        _core.orthogonalize(ptr, rows, cols, dt, th, isa)
    return a


def delta_orthogonal_(out, gain=1.0, *, seed=None, stream=0, threads=None, global_shape=None, offset=None):
    r"""Delta-orthogonal initialization of a convolution weight (Xiao et al. 2018).

    `out` has shape ``(out_channels, in_channels, *kernel_size)`` with 1, 2 or 3
    spatial dimensions. All entries are zero except the spatial centre
    (index ``k // 2`` along each spatial axis), where ``out[:, :, centre]`` is
    ``gain`` times a Haar-orthogonal ``out_channels x in_channels`` matrix with
    orthonormal columns: exactly the matrix
    ``orthogonal_(np.empty((out_channels, in_channels)), gain, seed=seed,
    stream=stream)`` in the same dtype. Requires
    ``in_channels <= out_channels``, so that the convolution preserves norms.

    Reference: L. Xiao et al., "Dynamical isometry and a mean field theory of
    CNNs: how to train 10,000-layer vanilla convolutional neural networks",
    ICML 2018.

    With `global_shape` and `offset` (start indices), `out` is that block of the
    whole result, equal to it bit for bit: zeros, and where the block holds
    the kernel centre, the matching block of the orthogonal matrix (see
    :func:`orthogonal_`).
    """
    ptr, dt, cplx = _target(out)
    if not 3 <= out.ndim <= 5:
        raise ValueError("out must be a convolution weight of shape (out_channels, in_channels, "
                         f"*kernel_size) with 1 to 3 spatial dimensions, got shape {out.shape}")
    region = resolve_block(out, global_shape, offset)
    shape, start = (tuple(out.shape), (0,) * out.ndim) if region is None else region
    cout, cin = shape[0], shape[1]
    if cin > cout:
        raise ValueError(f"delta_orthogonal_ needs in_channels <= out_channels, got "
                         f"in_channels={cin} > out_channels={cout} (shape {shape})")
    g = _gain(gain)
    _limits.check_gain(g, dt)
    s = resolve_seed(seed)
    st = stream_id(stream)
    th = resolve_threads(threads)
    isa = isa_code()
    centre = tuple(k // 2 for k in shape[2:])
    if out.size == 0:
        return out
    local = tuple(c - o for c, o in zip(centre, start[2:]))     # the centre tap inside the block
    out[...] = 0
    if all(0 <= c < n for c, n in zip(local, out.shape[2:])):
        q = np.empty(out.shape[:2], dtype=out.dtype)
        if region is None:
            _haar(q.__array_interface__["data"][0], cout, cin, dt, cplx, g, s, st, th, isa)
        else:
            _orthogonal_block(q, dt, cplx, (cout, cin), start[:2], g, s, st, th, isa)
        out[(slice(None), slice(None)) + local] = q
    return out
