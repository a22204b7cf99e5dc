/* weightinit C core: Householder kernels (orthogonal initialization).
 *
 * A rows x cols row-major buffer is treated as the matrix Q of size M x N,
 * M = max(rows, cols), N = min(rows, cols): Q = out when rows >= cols
 * (orthonormal columns), Q = out^T when rows < cols (orthonormal rows).
 * float64 is computed in float64; float32, float16 and bfloat16 in float32
 * (16-bit outputs through a float32 work copy, rounded once, nearest-even). */
#ifndef WEIGHTINIT_HOUSEHOLDER_H
#define WEIGHTINIT_HOUSEHOLDER_H
#include "weightinit.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WI_ENOMEM 6         /* workspace allocation failed */
#define WI_ECANCELLED 8     /* *req->cancel became nonzero: stopped early, out holds partial values */

typedef struct {
    void *out;          /* rows * cols elements of dtype, C-contiguous */
    uint64_t rows, cols;
    wi_dtype dtype;
    double gain;        /* finite; the result is gain * Q */
    uint64_t seed, stream;
    int threads;        /* >= 1 */
    int isa;            /* wi_isa */
    const int *cancel;  /* NULL, or a flag another thread may set: polled between steps of the
                           work (every panel and every chunk of a product, milliseconds apart);
                           once nonzero the call returns WI_ECANCELLED (every entry point
                           but wi_orthogonalize) */
} wi_orthogonal_request;

/* Haar-distributed Q (Stewart 1980): Q = H_0 ... H_{N-1} [I; 0] D, where H_j
 * (0-based) acts on rows j..M-1 and is the Householder reflector (xLARFG
 * conventions) of x_j = the normal samples of stream (seed, stream) at flat
 * indices j*M + j .. j*M + M-1 (the lower part of column j of a column-major
 * M x N sample matrix; float64 samples for float64 output, float32 samples
 * otherwise), H_j x_j = beta_j e_j, and D_jj = sign(beta_j) (+1 for 0). This
 * has the law of the Q factor, with positive diag(R), of the QR factorization
 * of an M x N Gaussian matrix. */
int wi_orthogonal(const wi_orthogonal_request *req);

/* The block out = G[r0:r0+h, c0:c0+w] of G = the rows x cols result of
 * wi_orthogonal(req) (req->rows, req->cols: the whole matrix; req->out: h x w
 * elements, C-contiguous), equal to it bit for bit, without forming G: only the
 * columns of Q the block touches are computed (full height, in slabs of about
 * h * w / M columns, at least 4 WI_HH_NB = 512), from the panels of reflectors they need.
 * WI_ERANGE if the block does not fit in rows x cols. Real dtypes only. */
int wi_orthogonal_block(const wi_orthogonal_request *req, uint64_t r0, uint64_t c0, uint64_t h, uint64_t w);

/* The complex form: out holds rows * cols complex numbers as (re, im) pairs of
 * dtype WI_F32 (complex64) or WI_F64 (complex128). x_j are circular complex
 * normals whose parts are the float32 (float64) normal stream at part indices
 * 2 (j*M + i) and 2 (j*M + i) + 1; H_j = I - tau v v^H maps x_j to
 * -phase(x_j0) ||x_j|| e_j and D_jj = -phase(x_j0): the law of the unitary Q
 * factor, with positive real diag(R), of an M x N complex Gaussian matrix (Haar
 * on the complex Stiefel manifold). Computed in float64, rounded once; out =
 * gain Q, or gain Q^T when rows < cols. */
int wi_orthogonal_complex(const wi_orthogonal_request *req);

/* The block out = G[r0:r0+h, c0:c0+w] of the wi_orthogonal_complex result G, bit for
 * bit, from the columns of Q it touches (full height, in slabs of about h * w / M
 * columns, at least 512), each reflector regenerated from its own samples. */
int wi_orthogonal_complex_block(const wi_orthogonal_request *req, uint64_t r0, uint64_t c0, uint64_t h,
                                uint64_t w);

/* The complex form of wi_orthogonalize: a holds rows * cols complex numbers as
 * (re, im) pairs of part dtype WI_F32 (complex64) or WI_F64 (complex128);
 * a <- Q (or Q^T, rows < cols) with real positive diag(R), computed in float64
 * and rounded once. */
int wi_orthogonalize_complex(void *a, uint64_t rows, uint64_t cols, wi_dtype part, int threads);

/* a <- Q of a = QR (rows >= cols) or of a^T = QR (rows < cols, then a <- Q^T),
 * with positive diag(R) (R_jj = 0 counts as positive). */
int wi_orthogonalize(void *a, uint64_t rows, uint64_t cols, wi_dtype dtype, int threads, int isa);

/* Internal: columns per slab of a block of h rows x nq columns of an M-row Q: about
 * the block's own size (h nq / M), at least 4 panels, at most nq. */
int64_t wi_block_slab(int64_t M, int64_t h, int64_t nq);

#ifdef __cplusplus
}
#endif
#endif
