# Binding of the region fill (csrc/region.h): a block of a larger tensor, filled as its
# contiguous runs in C, with no per-run work in Python.

cdef extern from "region.h":
    int WI_REGION_MAX_DIMS
    int wi_fill_region(const wi_fill_request *req, int ndim, const uint64_t *global_shape,
                       const uint64_t *start, const uint64_t *shape) nogil


def fill_region(str dist, uintptr_t ptr, str dtype, tuple params, uint64_t seed, uint64_t stream,
                tuple global_shape, tuple start, tuple shape, int threads, int isa):
    """Fill the block `shape` at `start` of a tensor of `global_shape`, stored
    C-contiguous at ptr (validated by the caller: weightinit._regions)."""
    cdef wi_fill_request r
    cdef uint64_t g[32]
    cdef uint64_t s[32]
    cdef uint64_t b[32]
    cdef int code, i, ndim = len(global_shape)
    if ndim < 1 or ndim > 32 or len(start) != ndim or len(shape) != ndim:
        raise ValueError(f"region needs 1 to 32 dimensions, got {ndim}")
    for i in range(ndim):
        g[i] = global_shape[i]
        s[i] = start[i]
        b[i] = shape[i]
    r.out = <void *>ptr
    r.n = 0
    r.offset = 0
    r.seed = seed
    r.stream = stream
    r.dtype = DTYPE_CODES[dtype]
    r.dist = DIST_CODES[dist]
    for i in range(4):
        r.params[i] = params[i] if i < len(params) else 0.0
    r.threads = threads
    r.isa = isa
    with nogil:
        code = wi_fill_region(&r, ndim, g, s, b)
    _check(code)
