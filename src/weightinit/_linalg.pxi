# Bindings of the Householder (orthogonal) kernels: csrc/householder.h.
# Included from _core.pyx; the Python layer (weightinit.orthogonal) validates.

cdef extern from "householder.h":
    ctypedef struct wi_orthogonal_request:
        void *out
        uint64_t rows
        uint64_t cols
        wi_dtype dtype
        double gain
        uint64_t seed
        uint64_t stream
        int threads
        int isa
        const int *cancel
    int wi_orthogonal(const wi_orthogonal_request *req) nogil
    int wi_orthogonal_complex(const wi_orthogonal_request *req) nogil
    int wi_orthogonal_block(const wi_orthogonal_request *req, uint64_t r0, uint64_t c0,
                            uint64_t h, uint64_t w) nogil
    int wi_orthogonal_complex_block(const wi_orthogonal_request *req, uint64_t r0, uint64_t c0,
                                    uint64_t h, uint64_t w) nogil
    int wi_orthogonalize(void *a, uint64_t rows, uint64_t cols, wi_dtype dtype, int threads, int isa) nogil
    int wi_orthogonalize_complex(void *a, uint64_t rows, uint64_t cols, wi_dtype part, int threads) nogil
    int WI_ENOMEM
    int WI_ECANCELLED


cdef _check_linalg(int code):
    if code == WI_ENOMEM:
        raise MemoryError("weightinit: could not allocate the Householder workspace")
    if code == WI_ECANCELLED:
        raise KeyboardInterrupt("weightinit: the orthogonal computation was cancelled")
    _check(code)


cdef void _request(wi_orthogonal_request *r, uintptr_t ptr, uint64_t rows, uint64_t cols, str dtype, double gain,
                   uint64_t seed, uint64_t stream, int threads, int isa, uintptr_t cancel) except *:
    r.out = <void *>ptr
    r.rows = rows
    r.cols = cols
    r.dtype = DTYPE_CODES[dtype]
    r.gain = gain
    r.seed = seed
    r.stream = stream
    r.threads = threads
    r.isa = isa
    r.cancel = <const int *>cancel


def orthogonal(uintptr_t ptr, uint64_t rows, uint64_t cols, str dtype, double gain,
               uint64_t seed, uint64_t stream, int threads, int isa, uintptr_t cancel=0):
    """Haar-orthogonal rows x cols (row-major) matrix times gain at address ptr. cancel:
    0 or the address of a C int that another thread sets to stop the call early."""
    cdef wi_orthogonal_request r
    cdef int code
    if ptr == 0 and rows * cols:
        raise ValueError("null buffer")
    _request(&r, ptr, rows, cols, dtype, gain, seed, stream, threads, isa, cancel)
    with nogil:
        code = wi_orthogonal(&r)
    _check_linalg(code)


def orthogonal_block(uintptr_t ptr, uint64_t rows, uint64_t cols, uint64_t r0, uint64_t c0,
                     uint64_t h, uint64_t w, str dtype, double gain, uint64_t seed, uint64_t stream,
                     int threads, int isa, uintptr_t cancel=0):
    """The h x w block at (r0, c0) of the rows x cols result of orthogonal(), into the
    C-contiguous h x w buffer at ptr, without forming the whole matrix."""
    cdef wi_orthogonal_request r
    cdef int code
    if ptr == 0 and h * w:
        raise ValueError("null buffer")
    _request(&r, ptr, rows, cols, dtype, gain, seed, stream, threads, isa, cancel)
    with nogil:
        code = wi_orthogonal_block(&r, r0, c0, h, w)
    _check_linalg(code)


def orthogonal_complex_block(uintptr_t ptr, uint64_t rows, uint64_t cols, uint64_t r0, uint64_t c0,
                             uint64_t h, uint64_t w, str part_dtype, double gain, uint64_t seed,
                             uint64_t stream, int threads, int isa, uintptr_t cancel=0):
    """The h x w block at (r0, c0) of the rows x cols result of orthogonal_complex(), into
    the C-contiguous h x w complex buffer at ptr."""
    cdef wi_orthogonal_request r
    cdef int code
    if ptr == 0 and h * w:
        raise ValueError("null buffer")
    _request(&r, ptr, rows, cols, part_dtype, gain, seed, stream, threads, isa, cancel)
    with nogil:
        code = wi_orthogonal_complex_block(&r, r0, c0, h, w)
    _check_linalg(code)


def orthogonal_complex(uintptr_t ptr, uint64_t rows, uint64_t cols, str part_dtype, double gain,
                       uint64_t seed, uint64_t stream, int threads, int isa, uintptr_t cancel=0):
    """Haar-unitary rows x cols (row-major) complex matrix times gain at ptr; part_dtype
    'float32' (complex64) or 'float64' (complex128)."""
    cdef wi_orthogonal_request r
    cdef int code
    if ptr == 0 and rows * cols:
        raise ValueError("null buffer")
    _request(&r, ptr, rows, cols, part_dtype, gain, seed, stream, threads, isa, cancel)
    with nogil:
        code = wi_orthogonal_complex(&r)
    _check_linalg(code)


def orthogonalize(uintptr_t ptr, uint64_t rows, uint64_t cols, str dtype, int threads, int isa):
    """In place: the rows x cols (row-major) matrix at ptr becomes the Q factor
    of its QR (of its transpose when rows < cols) with positive diag(R)."""
    cdef int code
    cdef wi_dtype d = DTYPE_CODES[dtype]
    if ptr == 0 and rows * cols:
        raise ValueError("null buffer")
    with nogil:
        code = wi_orthogonalize(<void *>ptr, rows, cols, d, threads, isa)
    _check_linalg(code)


def orthogonalize_complex(uintptr_t ptr, uint64_t rows, uint64_t cols, str part_dtype, int threads):
    """In place: the rows x cols (row-major) complex matrix at ptr ('float32' parts:
    complex64, 'float64': complex128) becomes the unitary factor of its QR (of its
    transpose when rows < cols) with real positive diag(R)."""
    cdef int code
    cdef wi_dtype d = DTYPE_CODES[part_dtype]
    if ptr == 0 and rows * cols:
        raise ValueError("null buffer")
    with nogil:
        code = wi_orthogonalize_complex(<void *>ptr, rows, cols, d, threads)
    _check_linalg(code)
