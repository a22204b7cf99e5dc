/* Internal: the per-ISA kernels of the Householder code (hh_kernels.c, compiled
 * once per ISA) and the constants that fix the arithmetic. Everything that
 * decides the order of floating-point operations lives here and is the same for
 * every ISA, so every variant and every thread count gives the same bits. */
#ifndef WI_HH_KERNELS_H
#define WI_HH_KERNELS_H
#include <stdint.h>
#include "weightinit.h"

/* Frozen by the bit-reproducibility contract (changing either changes results):
 *   WI_HH_NB  reflectors per block (compact WY block size)
 *   WI_HH_KC  length of the summation chunks of every matrix product: an entry of
 *             C = A B is sum_chunks (sum_{k in chunk} a_k b_k), each chunk summed
 *             in increasing k with fused multiply-adds from 0, the chunk sums
 *             added to C in increasing chunk order. */
#define WI_HH_NB 128
#define WI_HH_KC 256

/* Packing buffer sizes (do not affect results). */
#define WI_HH_MC 192        /* rows of A packed at a time (a multiple of every MR) */
#define WI_HH_NC 1024       /* columns of B packed at a time (a multiple of every NR) */
#define WI_HH_GEMM_WORK ((int64_t)WI_HH_KC * (WI_HH_MC + WI_HH_NC))

/* mode of a product */
enum { WI_HH_SET = 0, WI_HH_SUB = 1 };

/* C (m x n) = A B (mode SET) or C -= A B (mode SUB), A m x k, B k x n, general
 * strides (element units). work: WI_HH_GEMM_WORK elements, 64-byte aligned. */
typedef void (*wi_hh_gemm_f32)(int64_t m, int64_t n, int64_t k,
                               const float *A, int64_t rsa, int64_t csa,
                               const float *B, int64_t rsb, int64_t csb,
                               float *C, int64_t rsc, int64_t csc, int mode, float *work);
typedef void (*wi_hh_gemm_f64)(int64_t m, int64_t n, int64_t k,
                               const double *A, int64_t rsa, int64_t csa,
                               const double *B, int64_t rsb, int64_t csb,
                               double *C, int64_t rsc, int64_t csc, int mode, double *work);

/* Apply H = I - tau v v^T (v = P[j:L, j] with v_0 = 1 implied) from the left to
 * the columns j+1..nc-1 of the row-major panel P (L x nc, leading dimension ld).
 * w: nc scratch elements. */
typedef void (*wi_hh_reflect_f32)(float *P, int64_t L, int64_t ld, int64_t j, int64_t nc, float tau, float *w);
typedef void (*wi_hh_reflect_f64)(double *P, int64_t L, int64_t ld, int64_t j, int64_t nc, double tau, double *w);

typedef struct {
    wi_hh_gemm_f32 gemm_f32;
    wi_hh_gemm_f64 gemm_f64;
    wi_hh_reflect_f32 reflect_f32;
    wi_hh_reflect_f64 reflect_f64;
} wi_hh_kernels;

extern const wi_hh_kernels wi_hh_kernels_scalar;
extern const wi_hh_kernels wi_hh_kernels_avx2;
extern const wi_hh_kernels wi_hh_kernels_avx512;
#endif
