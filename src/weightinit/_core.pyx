# cython: language_level=3, boundscheck=False, wraparound=False
"""Binding to the C core. Arguments arrive already validated by the Python
layer (weightinit._buffers); this layer checks what C needs, releases the GIL
for the work, and turns C error codes into Python exceptions."""
from libc.stdint cimport uint32_t, uint64_t, uintptr_t

cdef extern from "weightinit.h":
    ctypedef enum wi_dtype:
        WI_F64, WI_F32, WI_F16, WI_BF16, WI_F8E4M3, WI_F8E5M2
    ctypedef enum wi_dist:
        WI_UNIFORM, WI_NORMAL, WI_TRUNC_NORMAL, WI_DISK, WI_DISK_TRUNC_NORMAL
    ctypedef struct wi_fill_request:
        void *out
        uint64_t n
        uint64_t offset
        uint64_t seed
        uint64_t stream
        wi_dtype dtype
        wi_dist dist
        double params[4]
        int threads
        int isa
    int wi_fill(const wi_fill_request *req) nogil
    int wi_constant(void *out, uint64_t n, wi_dtype dtype, double value, int threads) nogil
    void wi_philox4x32(const uint32_t *ctr, const uint32_t *key, uint32_t *out) nogil
    int wi_isa_supported(int isa)
    int wi_isa_best()
    int wi_have_openmp()
    const char *wi_strerror(int code)

DTYPE_CODES = {"float64": WI_F64, "float32": WI_F32, "float16": WI_F16, "bfloat16": WI_BF16,
               "float8_e4m3fn": WI_F8E4M3, "float8_e5m2": WI_F8E5M2}
DIST_CODES = {"uniform": WI_UNIFORM, "normal": WI_NORMAL, "trunc_normal": WI_TRUNC_NORMAL,
              "disk": WI_DISK, "disk_trunc_normal": WI_DISK_TRUNC_NORMAL}

_ERROR_TYPES = {1: TypeError, 2: ValueError, 3: ValueError, 4: ValueError, 5: ValueError, 7: ValueError}


cdef _check(int code):
    if code != 0:
        raise _ERROR_TYPES.get(code, RuntimeError)(wi_strerror(code).decode())


def fill(str dist, uintptr_t ptr, uint64_t n, str dtype, tuple params, uint64_t seed,
         uint64_t stream, uint64_t offset, int threads, int isa):
    """Fill n elements at address ptr. params: up to 4 floats (see weightinit.h)."""
    cdef wi_fill_request r
    cdef int code, i
    if ptr == 0 and n:
        raise ValueError("null buffer")
    r.out = <void *>ptr
    r.n = n
    r.offset = offset
    r.seed = seed
    r.stream = stream
    r.dtype = DTYPE_CODES[dtype]
    r.dist = DIST_CODES[dist]
    for i in range(4):
        r.params[i] = params[i] if i < len(params) else 0.0
    r.threads = threads
    r.isa = isa
    with nogil:
        code = wi_fill(&r)
    _check(code)


def constant(uintptr_t ptr, uint64_t n, str dtype, double value, int threads):
    cdef int code
    cdef wi_dtype d = DTYPE_CODES[dtype]
    with nogil:
        code = wi_constant(<void *>ptr, n, d, value, threads)
    _check(code)


def philox4x32(counter, key):
    """Philox4x32-10 of a 4-word counter and a 2-word key (Random123 conventions)."""
    cdef uint32_t c[4]
    cdef uint32_t k[2]
    cdef uint32_t o[4]
    cdef int i
    if len(counter) != 4:
        raise ValueError(f"counter must have 4 words, got {len(counter)}")
    if len(key) != 2:
        raise ValueError(f"key must have 2 words, got {len(key)}")
    for i, w in enumerate(list(counter) + list(key)):
        if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w < 2**32:
            raise ValueError(f"counter and key words must be integers in [0, 2**32), got {w!r}")
    for i in range(4):
        c[i] = counter[i]
    for i in range(2):
        k[i] = key[i]
    wi_philox4x32(c, k, o)
    return (o[0], o[1], o[2], o[3])


def isa_supported(int isa):
    return bool(wi_isa_supported(isa))


def isa_best():
    return wi_isa_best()


def have_openmp():
    return bool(wi_have_openmp())

# Further kernels bind here, one .pxi per concern.
include "_linalg.pxi"
include "_region.pxi"
