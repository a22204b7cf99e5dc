/* Householder kernels: the matrix product and the reflector update used by
 * householder.c. This one file is compiled once per ISA (-DWI_ISA_SUFFIX=...,
 * plus -m flags). The vector paths use intrinsics (a register tile of MR rows
 * x NR columns, one accumulator per entry, vectors along the columns); the
 * scalar path is plain C. Every multiply-add is an explicit fused one, so
 * each result entry is computed by the same sequence of correctly rounded
 * operations on every path: vector FMA instructions on AVX2/AVX-512, the C
 * library's fma() on the scalar path (exact on CPUs without FMA, only slower).
 * The summation order over k is fixed by WI_HH_KC (hh_kernels.h) and never
 * depends on the register tile (MR x NR), the cache blocks or the thread. */
#include <math.h>
#include <string.h>
#include "hh_kernels.h"

#define WI_CAT2(a, b) a##_##b
#define WI_CAT(a, b) WI_CAT2(a, b)
#define WI_FN(name) WI_CAT(name, WI_ISA_SUFFIX)

/* Register tiles MR x NR (NR = NV vectors): MR * NV accumulators plus NV
 * vectors of B and one broadcast of A must fit in the vector registers (16 ymm
 * on AVX2, 32 zmm on AVX-512), and MR * NV >= 2 FMA pipes x 4-5 cycles of FMA
 * latency keeps both pipes busy. */
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#if defined(__AVX512F__)
#define MR_F32 12           /* 12 x 32: 24 accumulators */
#define MR_F64 12           /* 12 x 16 */
#define VT_F32 __m512
#define VT_F64 __m512d
#define VL_F32 16
#define VL_F64 8
#define VX(op, sfx) _mm512_##op##_##sfx
#define VZERO_(sfx) _mm512_setzero_##sfx
#elif defined(__AVX2__)
#define MR_F32 6            /* 6 x 16: 12 accumulators */
#define MR_F64 6            /* 6 x 8 */
#define VT_F32 __m256
#define VT_F64 __m256d
#define VL_F32 8
#define VL_F64 4
#define VX(op, sfx) _mm256_##op##_##sfx
#define VZERO_(sfx) _mm256_setzero_##sfx
#else
#define MR_F32 4            /* plain C, one fma() per product */
#define MR_F64 4
#define NR_F32 8
#define NR_F64 4
#endif

/* Rows of memory to bring into the cache a few at a time, between tiles. */
typedef struct {
    const char *next;       /* first byte of the next row */
    int64_t stride, bytes;  /* between rows; per row */
    int64_t left, per_step; /* rows to go; rows per step */
} wi_hh_ahead;

static inline void ahead_step(wi_hh_ahead *pf) {
    for (int64_t i = 0; i < pf->per_step && pf->left > 0; i++, pf->left--, pf->next += pf->stride)
        for (int64_t b = 0; b < pf->bytes; b += 64) __builtin_prefetch(pf->next + b, 0, 2);
}

/* how a tile's sums meet C */
enum { HOW_SET = 0, HOW_ADD = 1, HOW_SUB = 2 };

#define R float
#define SFX f32
#define FMA fmaf
#define MR MR_F32
#ifdef VT_F32
#define VT VT_F32
#define VL VL_F32
#define NV 2
#define NR (NV * VL)
#define VLOAD(p) VX(loadu, ps)(p)
#define VSTORE(p, x) VX(storeu, ps)(p, x)
#define VSET1(x) VX(set1, ps)(x)
#define VFMA(a, b, c) VX(fmadd, ps)(a, b, c)
#define VADD(a, b) VX(add, ps)(a, b)
#define VSUB(a, b) VX(sub, ps)(a, b)
#define VZERO() VZERO_(ps)()
#else
#define NR NR_F32
#endif
#include "hh_kernels_tmpl.h"

#define R double
#define SFX f64
#define FMA fma
#define MR MR_F64
#ifdef VT_F64
#define VT VT_F64
#define VL VL_F64
#define NV 2
#define NR (NV * VL)
#define VLOAD(p) VX(loadu, pd)(p)
#define VSTORE(p, x) VX(storeu, pd)(p, x)
#define VSET1(x) VX(set1, pd)(x)
#define VFMA(a, b, c) VX(fmadd, pd)(a, b, c)
#define VADD(a, b) VX(add, pd)(a, b)
#define VSUB(a, b) VX(sub, pd)(a, b)
#define VZERO() VZERO_(pd)()
#else
#define NR NR_F64
#endif
#include "hh_kernels_tmpl.h"

const wi_hh_kernels WI_FN(wi_hh_kernels) = {
    WI_FN(gemm_f32), WI_FN(gemm_f64), WI_FN(reflect_f32), WI_FN(reflect_f64),
};
