/* Internal: a fill request after validation and setup, as the per-ISA tile
 * kernels see it. The kernels are compiled once per ISA from fill_kernels.c. */
#ifndef WI_FILL_JOB_H
#define WI_FILL_JOB_H
#include "weightinit.h"

#define WI_TILE_BLOCKS 256   /* Philox blocks per tile; frozen by the stream contract */

/* Inverse-CDF constants of a standard normal truncated to [alpha, beta].
 * u in (0, 1) maps to p = Phi(alpha) + u (Phi(beta) - Phi(alpha)):
 *   centre (|p - 1/2| <= 0.425): q = p - 1/2 = d0 + u d1
 *   lower tail: p = exp(llp) (lk0 + u lk1)       with lk0 + lk1 = 1
 *   upper tail: 1 - p = exp(ulp) (uk0 + (1-u) uk1) with uk0 + uk1 = 1
 * the upper form is used where u > u_switch. */
typedef struct {
    double d0, d1;
    double lk0, lk1, llp;
    double uk0, uk1, ulp;
    double u_switch;
    /* The centre formula pivots on u_c, the u in [0, 1] nearest u_switch, where
     * |q| is smallest: q = qc + d1 (u - u_c), qc = q(u_c) (0 when u_c = u_switch).
     * u - u_c is formed from the random integer without cancellation:
     *   32-bit: (u - u_c) 2^32 = e = w - K - f,  K = piv32, f = pivf32,
     *   64-bit: (u - u_c) 2^52 = e = m - K - f,  m = x >> 12, K = piv64, f = pivf64,
     * K an integer of the word's range and f in [-1/2, 1), so that values near the
     * mean keep full relative precision (contract version 2). */
    double qc;
    uint32_t piv32;
    double pivf32;
    uint64_t piv64;
    double pivf64;
    int wide;           /* 32-bit samples evaluated in float64 (see wi_fill) */
    int far;            /* some p lies below exp(-676): refine those lanes */
    /* Whole interval deep in one tail (alpha >= WI_TN_EXP_ALPHA or beta <= -that),
     * or narrow (WI_TN_NARROW): exp_side = +1 (upper) or -1 (lower), else 0. There z = edge + y / |edge| with y
     * an exponential truncated to [0, yb], corrected to fourth order in 1/edge
     * (docs/streams.md); computed in float64 as x = base + step * y, because there
     * mean + std * z cancels catastrophically and edge^2 may overflow. */
    int exp_side;
    double base, step;  /* the bound a (or b), and +-std/|edge| */
    double inv_e2, inv_e4;  /* 1 / edge^2, 1 / edge^4 */
    double tail_e, tail_c;  /* exp(-Lb), 1 - exp(-Lb): Lb the log survival at the far bound */
} wi_tn_consts;

/* |standardized edge| from which the exponential-tail form replaces inversion:
 * there its relative error in y (O(y^4 / edge^6), measured against a 50-digit
 * solution, y up to 23 resp. 37) is below an ulp of the working precision (float32
 * path: 1.3e-8 at edge 96; float64 path: 7.5e-17 at edge 4096), while inversion,
 * which resolves z only to ulp(edge), has already lost much of the spread 1/edge. */
#define WI_TN_EXP_ALPHA32 96.0
#define WI_TN_EXP_ALPHA64 4096.0

/* (b - a) / std below which an interval is sampled as a truncated exponential
 * (tn_narrow_setup in fill.c): there the density's quadratic term is below 2^-61. */
#define WI_TN_NARROW 0x1p-30

typedef struct {
    void *out;
    uint64_t n, offset;
    uint32_t k0, k1, s0, s1;
    wi_dtype dtype;
    wi_dist dist;
    uint64_t tile_elems;
    /* value = shift + scale * sample, computed in float32 (float64 for f64
     * output); with clamp set it is clamped to [lo, hi] before the final
     * rounding. For f32/f64 output lo, hi are the dtype's bounds themselves;
     * for f16/bf16 they are the widest float32 values that still round into
     * the bounds. */
    double shift, scale;
    double shift_odd;              /* normal: shift of odd flat indices (= shift unless complex) */
    double disk_c;                 /* disk truncated normal: 1 - exp(-upper^2) */
    int clamp;
    double lo, hi;
    wi_tn_consts tn;
    int stream_stores;             /* write the output with non-temporal stores */
} wi_job;

typedef void (*wi_tiles_fn)(const wi_job *job, uint64_t tile_begin, uint64_t tile_end);

void wi_tiles_scalar(const wi_job *job, uint64_t tile_begin, uint64_t tile_end);
void wi_tiles_avx2(const wi_job *job, uint64_t tile_begin, uint64_t tile_end);
void wi_tiles_avx512(const wi_job *job, uint64_t tile_begin, uint64_t tile_end);
#endif
