/* Householder drivers: Haar-orthogonal sampling and QR orthogonalization with
 * blocked (compact WY) reflectors. See householder.h for the contract.
 *
 * Blocks of WI_HH_NB reflectors H = I - V T V^T (Schreiber & Van Loan 1989).
 * Q is formed in place, block by block from the last one (as LAPACK's xORGQR):
 * the trailing columns Q[k:, k+kb:] that are already formed get
 * C <- C - V (T (V^T C)), then the block's own columns are E - V (T V1^T).
 * Threads split the trailing columns (or the rows of the panel) into chunks;
 * every entry is computed by the same operations whatever the chunking, and
 * the per-ISA products (hh_kernels.c) use one summation order, so the bits do
 * not depend on the thread count or the SIMD path. Scalar set-up work
 * (reflector construction, T) runs in this file, once per path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "householder.h"
#include "hh_kernels.h"
#include "convert.h"
#include "convert8.h"
#include "wi_hypot.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define CHUNK_COLS 64       /* trailing columns per task (max) */
#define CHUNK_ROWS 512      /* panel rows per task */

static const wi_hh_kernels *kernels_for(int isa) {
#if defined(WI_HAVE_AVX512) && (defined(__x86_64__) || defined(__i386__))
    if (isa == WI_ISA_AVX512) return &wi_hh_kernels_avx512;
#endif
#if defined(WI_HAVE_AVX2) && (defined(__x86_64__) || defined(__i386__))
    /* the AVX2 variant is compiled with -mfma; without FMA the scalar variant
     * computes the same bits */
    if (isa == WI_ISA_AVX2 && __builtin_cpu_supports("fma")) return &wi_hh_kernels_avx2;
#endif
    (void)isa;
    return &wi_hh_kernels_scalar;
}

static void *alloc64(size_t bytes) {
    if (bytes == 0) bytes = 64;
    bytes = (bytes + 63) & ~(size_t)63;
    return aligned_alloc(64, bytes);
}

/* threads worth using for about `flops` of work */
static int useful_threads(int threads, double flops) {
    double most = flops / 4.0e6;
    if (threads < 1) threads = 1;
    if (most < 1) return 1;
    return most < threads ? (int)most : threads;
}

static int thread_id(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

#define R float
#define SFX f32
#define WDT WI_F32
#define GEMM gemm_f32
#define REFLECT reflect_f32
#include "householder_tmpl.h"
#undef R
#undef SFX
#undef WDT
#undef GEMM
#undef REFLECT

#define R double
#define SFX f64
#define WDT WI_F64
#define GEMM gemm_f64
#define REFLECT reflect_f64
#include "householder_tmpl.h"
#undef R
#undef SFX
#undef WDT
#undef GEMM
#undef REFLECT

/* ---- 16-bit outputs through a float32 work copy ------------------------- */
static void from16(const uint16_t *h, float *f, int64_t n, wi_dtype d, int threads) {
    int nt = useful_threads(threads, (double)n);
    (void)nt;
    #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int64_t i = 0; i < n; i++) {
        uint16_t x = h[i];
        if (d == WI_BF16) { f[i] = wi_bits_f32((uint32_t)x << 16); continue; }
        uint32_t sign = (uint32_t)(x & 0x8000u) << 16, e = (x >> 10) & 0x1fu, m = x & 0x3ffu;
        float v;
        if (e == 0) v = (float)m * 0x1p-24f;                       /* exact */
        else if (e == 31) v = m ? NAN : INFINITY;
        else v = wi_bits_f32(((e + 112u) << 23) | (m << 13));
        f[i] = wi_bits_f32(wi_f32_bits(v) | sign);
    }
}

static void to16(const float *f, uint16_t *h, int64_t n, wi_dtype d, double gain, int threads) {
    int nt = useful_threads(threads, (double)n);
    (void)nt;
    #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int64_t i = 0; i < n; i++) {
        /* gain * q in float64, to float32 by rounding to odd, then nearest-even
         * to 16 bits: one rounding of the float64 product */
        float v = gain == 1.0 ? f[i] : wi_f64_to_f32_odd((double)f[i] * gain);
        h[i] = d == WI_BF16 ? wi_f32_to_bf16(v) : wi_f32_to_f16(v);
    }
}

/* ---- 8-bit outputs, likewise --------------------------------------------- */
static void from8(const uint8_t *h, float *f, int64_t n, wi_dtype d, int threads) {
    int nt = useful_threads(threads, (double)n);
    (void)nt;
    #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int64_t i = 0; i < n; i++) f[i] = d == WI_F8E4M3 ? wi_e4m3_to_f32(h[i]) : wi_e5m2_to_f32(h[i]);
}

static void to8(const float *f, uint8_t *h, int64_t n, wi_dtype d, double gain, int threads) {
    int nt = useful_threads(threads, (double)n);
    (void)nt;
    #pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (int64_t i = 0; i < n; i++) {
        float v = gain == 1.0 ? f[i] : wi_f64_to_f32_odd((double)f[i] * gain);   /* as to16 */
        h[i] = d == WI_F8E4M3 ? wi_f32_to_e4m3(v) : wi_f32_to_e5m2(v);
    }
}

/* the float32 work copy back to the 16- or 8-bit output */
static void store_small(const float *f, void *out, int64_t n, wi_dtype d, double gain, int threads) {
    if (d == WI_F8E4M3 || d == WI_F8E5M2) to8(f, (uint8_t *)out, n, d, gain, threads);
    else to16(f, (uint16_t *)out, n, d, gain, threads);
}

static void load_small(const void *in, float *f, int64_t n, wi_dtype d, int threads) {
    if (d == WI_F8E4M3 || d == WI_F8E5M2) from8((const uint8_t *)in, f, n, d, threads);
    else from16((const uint16_t *)in, f, n, d, threads);
}

static void shape(uint64_t rows, uint64_t cols, int64_t *M, int64_t *N, int64_t *rs, int64_t *cs) {
    if (rows >= cols) { *M = (int64_t)rows; *N = (int64_t)cols; *rs = (int64_t)cols; *cs = 1; }
    else { *M = (int64_t)cols; *N = (int64_t)rows; *rs = 1; *cs = (int64_t)cols; }
}

static int check(uint64_t rows, uint64_t cols, wi_dtype dtype, int *isa) {
    if ((unsigned)dtype > WI_DTYPE_LAST) return WI_EDTYPE;
    if (*isa == WI_ISA_AUTO) *isa = wi_isa_best();
    if (!wi_isa_supported(*isa)) return WI_EISA;
    if (rows > (uint64_t)INT64_MAX / (cols ? cols : 1) / 8) return WI_ERANGE;
    return WI_OK;
}

int wi_orthogonal(const wi_orthogonal_request *r) {
    int isa = r->isa;
    int code = check(r->rows, r->cols, r->dtype, &isa);
    if (code) return code;
    if (!isfinite(r->gain)) return WI_EPARAM;
    if (r->rows == 0 || r->cols == 0) return WI_OK;
    int64_t M, N, rs, cs;
    shape(r->rows, r->cols, &M, &N, &rs, &cs);
    const wi_hh_kernels *K = kernels_for(isa);
    int threads = r->threads < 1 ? 1 : r->threads;
    int64_t n = (int64_t)(r->rows * r->cols);
    switch (r->dtype) {
    case WI_F64:
        return haar_f64(K, (double *)r->out, M, N, rs, cs, r->gain, r->seed, r->stream, threads, isa, r->cancel);
    case WI_F32:
        return haar_f32(K, (float *)r->out, M, N, rs, cs, r->gain, r->seed, r->stream, threads, isa, r->cancel);
    default: {
        float *w = alloc64((size_t)n * sizeof(float));
        if (!w) return WI_ENOMEM;
        code = haar_f32(K, w, M, N, rs, cs, 1.0, r->seed, r->stream, threads, isa, r->cancel);
        if (!code) store_small(w, r->out, n, r->dtype, r->gain, threads);
        free(w);
        return code;
    }
    }
}

/* The slab width of a block: the workspace (M x slab) about the size of the block
 * itself, and never under WI_BLOCK_MIN_SLAB columns: each slab regenerates its panels
 * (samples, reflectors, V^T V and T, about the work of applying a panel to NB / 2
 * columns), which narrow slabs would repeat too often. */
#define WI_BLOCK_MIN_SLAB (4 * WI_HH_NB)
int64_t wi_block_slab(int64_t M, int64_t h, int64_t nq) {
    int64_t need = M ? (h * nq + M - 1) / M : 1;
    int64_t slab = need > WI_BLOCK_MIN_SLAB ? need : WI_BLOCK_MIN_SLAB;
    return slab < nq ? slab : nq;
}

int wi_orthogonal_block(const wi_orthogonal_request *r, uint64_t r0, uint64_t c0, uint64_t h, uint64_t w) {
    int isa = r->isa;
    int code = check(r->rows, r->cols, r->dtype, &isa);
    if (code) return code;
    if (!isfinite(r->gain)) return WI_EPARAM;
    if (r0 > r->rows || h > r->rows - r0 || c0 > r->cols || w > r->cols - c0) return WI_ERANGE;
    if (h == 0 || w == 0) return WI_OK;
    int64_t M, N, rs, cs;
    shape(r->rows, r->cols, &M, &N, &rs, &cs);
    /* out = Q: rows of out are rows of Q; out = Q^T: rows of out are columns of Q */
    int tall = r->rows >= r->cols;
    int64_t p0 = (int64_t)(tall ? r0 : c0), np = (int64_t)(tall ? h : w);
    int64_t q0 = (int64_t)(tall ? c0 : r0), nq = (int64_t)(tall ? w : h);
    int64_t drs = tall ? (int64_t)w : 1, dcs = tall ? 1 : (int64_t)w;
    int64_t slab = wi_block_slab(M, np, nq);
    const wi_hh_kernels *K = kernels_for(isa);
    int threads = r->threads < 1 ? 1 : r->threads;
    int64_t n = (int64_t)(h * w);
    switch (r->dtype) {
    case WI_F64:
        return haar_block_f64(K, (double *)r->out, drs, dcs, M, N, p0, p0 + np, q0, q0 + nq, slab,
                              r->gain, r->seed, r->stream, threads, isa, r->cancel);
    case WI_F32:
        return haar_block_f32(K, (float *)r->out, drs, dcs, M, N, p0, p0 + np, q0, q0 + nq, slab,
                              r->gain, r->seed, r->stream, threads, isa, r->cancel);
    default: {
        float *t = alloc64((size_t)n * sizeof(float));
        if (!t) return WI_ENOMEM;
        code = haar_block_f32(K, t, drs, dcs, M, N, p0, p0 + np, q0, q0 + nq, slab, 1.0,
                              r->seed, r->stream, threads, isa, r->cancel);
        if (!code) store_small(t, r->out, n, r->dtype, r->gain, threads);
        free(t);
        return code;
    }
    }
}

int wi_orthogonalize(void *a, uint64_t rows, uint64_t cols, wi_dtype dtype, int threads, int isa) {
    int code = check(rows, cols, dtype, &isa);
    if (code) return code;
    if (rows == 0 || cols == 0) return WI_OK;
    int64_t M, N, rs, cs;
    shape(rows, cols, &M, &N, &rs, &cs);
    const wi_hh_kernels *K = kernels_for(isa);
    if (threads < 1) threads = 1;
    int64_t n = (int64_t)(rows * cols);
    switch (dtype) {
    case WI_F64: return qr_f64(K, (double *)a, M, N, rs, cs, threads);
    case WI_F32: return qr_f32(K, (float *)a, M, N, rs, cs, threads);
    default: {
        float *w = alloc64((size_t)n * sizeof(float));
        if (!w) return WI_ENOMEM;
        load_small(a, w, n, dtype, threads);
        code = qr_f32(K, w, M, N, rs, cs, threads);
        if (!code) store_small(w, a, n, dtype, 1.0, threads);
        free(w);
        return code;
    }
    }
}
