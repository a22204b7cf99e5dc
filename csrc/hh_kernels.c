/* Householder kernels: the matrix product and the reflector update used by
 * householder.c. This one file is compiled once per ISA (-DWI_ISA_SUFFIX=...,
 * plus -m flags); it is plain C written so that GCC vectorizes across the
 * columns j of the result. Every multiply-add is an explicit fma()/fmaf(), so
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

#if defined(__AVX512F__)
#define VBYTES 64
#define MR_F32 8
#define MR_F64 8
#elif defined(__AVX2__)
#define VBYTES 32
#define MR_F32 6
#define MR_F64 6
#else
#define VBYTES 16
#define MR_F32 4
#define MR_F64 4
#endif

#define R float
#define SFX f32
#define FMA fmaf
#define MR MR_F32
#define NR (2 * VBYTES / 4)
#include "hh_kernels_tmpl.h"
#undef R
#undef SFX
#undef FMA
#undef MR
#undef NR

#define R double
#define SFX f64
#define FMA fma
#define MR MR_F64
#define NR (2 * VBYTES / 8)
#include "hh_kernels_tmpl.h"
#undef R
#undef SFX
#undef FMA
#undef MR
#undef NR

const wi_hh_kernels WI_FN(wi_hh_kernels) = {
    WI_FN(gemm_f32), WI_FN(gemm_f64), WI_FN(reflect_f32), WI_FN(reflect_f64),
};
