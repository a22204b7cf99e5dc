/* Elementary functions used by the samplers, written with +, -, *, / and sqrt
 * only (no libm, no FMA: the build uses -ffp-contract=off), in one fixed
 * operation order. Every ISA variant compiles this same code, so scalar, AVX2
 * and AVX-512 give identical bits. All functions are branch-free so that the
 * tile loops vectorize. */
#ifndef WI_MATH_H
#define WI_MATH_H
#include <stdint.h>
#include <string.h>

static inline uint32_t wi_f32_bits(float x) { uint32_t b; memcpy(&b, &x, 4); return b; }
static inline float wi_bits_f32(uint32_t b) { float x; memcpy(&x, &b, 4); return x; }
static inline uint64_t wi_f64_bits(double x) { uint64_t b; memcpy(&b, &x, 8); return b; }
static inline double wi_bits_f64(uint64_t b) { double x; memcpy(&x, &b, 8); return x; }

/* Interleaved evaluation (the *_n functions): n <= WI_ILP independent elements
 * go through each step together before the next step. A tile loop hands them
 * elements b, b + NB/n, ... (each stream contiguous in b, so the loop still
 * vectorizes), and the out-of-order window then sees n short dependency chains
 * side by side instead of one long one. Per element the operations and their
 * order are unchanged, so are the bits. The loops must unroll fully before
 * vectorization (the pragma): a loop left rolled stops the tile loop from
 * vectorizing. */
#define WI_ILP 4   /* at most 16: the pragma below unrolls that far */
#define WI_EACH(k, n) _Pragma("GCC unroll 16") for (int k = 0; k < (n); k++)
/* ... and their callers' loops vectorize only if they are inlined whole */
#define WI_ILP_FN static inline __attribute__((always_inline))

/* An integer below 2^52 as a double, exactly: its bits under the exponent of
 * 2^52, minus 2^52 (vectorizes where there is no 64-bit integer conversion). */
static inline double wi_u52_to_f64(uint64_t x) { return wi_bits_f64(x | 0x4330000000000000ull) - 0x1p52; }

/* below 2^53: in two exact parts whose sum is exact */
static inline double wi_u53_to_f64(uint64_t x) {
    return wi_u52_to_f64(x >> 21) * 0x1p21 + wi_u52_to_f64(x & 0x1fffffu);
}

/* ---- natural log, x > 0 and normal -------------------------------------
 * x = 2^e * m with m in [sqrt(1/2), sqrt(2)); log(m) = 2 atanh(s),
 * s = (m-1)/(m+1), |s| <= 0.1716, by its Taylor series. */
static inline float wi_logf(float x) {
    /* offset by the bits of the first m: e and m in integer ops alone (a select
     * on m > sqrt(2) made GCC evaluate the whole log for both cases and blend) */
    uint32_t t = wi_f32_bits(x) - 0x3f3504f4u;
    int32_t e = (int32_t)t >> 23;
    float m = wi_bits_f32((t & 0x7fffffu) + 0x3f3504f4u);
    float s = (m - 1.0f) / (m + 1.0f);
    float z = s * s;
    float p = 1.0f / 11.0f;
    p = p * z + 1.0f / 9.0f;
    p = p * z + 1.0f / 7.0f;
    p = p * z + 1.0f / 5.0f;
    p = p * z + 1.0f / 3.0f;
    float ef = (float)e;
    return ef * 0.693145751953125f + (ef * 1.428606765330187e-06f + (2.0f * s + 2.0f * s * z * p));
}

/* -2 log(x 2^-k) from the bits of x (x 2^-k > 0 and normal): the Box-Muller
 * radius squared. The reduction of wi_logf, with 2^-k taken into the offset of
 * the exponent (exact); the -2 folded into the constants (scaling by powers of
 * two is exact); log(m) = 2 s + 2 s z P(z) with P a minimax fit of degree 2
 * (relative error 2.8e-7 in P, which enters scaled by z <= 0.0295), coefficients
 * rounded to float32 and the constant term then tuned against the radius
 * sqrt(-2 log u) over every float u in [2^-32, 1): max error 1.41 ulp (the
 * degree 4 Taylor form with a negation and a product by -2: 1.46 ulp). */
static inline float wi_neg2logf_reduce(uint32_t xb, uint32_t k, float *ef) {
    uint32_t t = xb - 0x3f3504f4u - (k << 23);
    *ef = (float)((int32_t)t >> 23);
    float m = wi_bits_f32((t & 0x7fffffu) + 0x3f3504f4u);
    return (m - 1.0f) / (m + 1.0f);
}

/* the rest, from s = (m-1)/(m+1) and the exponent: two halves, so that a loop
 * can run them as separate passes (fill_kernels.c: normal32) */
static inline float wi_neg2logf_poly(float s, float ef) {
    float z = s * s;
    float p = 0x1.2ee7f0p-3f;
    p = p * z + 0x1.997c22p-3f;
    p = p * z + 0x1.55557p-2f;
    float q = -4.0f * s;
    return ef * -1.38629150390625f + (ef * -2.857213530660374e-06f + (q + q * z * p));
}

static inline float wi_neg2logf_bits(uint32_t xb, uint32_t k) {
    float ef, s = wi_neg2logf_reduce(xb, k, &ef);
    return wi_neg2logf_poly(s, ef);
}

/* in two halves, so that a loop can run them as separate passes (fill_kernels.c:
 * normal64): the reduction to s = (m-1)/(m+1) and the exponent, then the series */
static inline double wi_log_reduce(double x, double *ef) {
    uint64_t b = wi_f64_bits(x);
    double m = wi_bits_f64((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);   /* [1, 2) */
    /* above sqrt(2), m/2 and the exponent plus one, all exact: selects on a
     * double compare, which vectorize under SSE2 too (no 64-bit integer compare
     * there); the biased exponent as a double without a 64-bit integer conversion */
    int big = m > 0x1.6a09e667f3bcdp+0;
    *ef = (wi_u52_to_f64((b >> 52) & 0x7ff) - 1023.0) + (big ? 1.0 : 0.0);
    m = big ? 0.5 * m : m;
    return (m - 1.0) / (m + 1.0);
}

/* The series in two halves (the Horner steps in order, z = s * s), so that a loop
 * can run them as separate passes too: each half's dependency chain is half as long. */
static inline double wi_log_series_head(double z) {
    double p = 1.0 / 25.0;
    p = p * z + 1.0 / 23.0;
    p = p * z + 1.0 / 21.0;
    p = p * z + 1.0 / 19.0;
    p = p * z + 1.0 / 17.0;
    p = p * z + 1.0 / 15.0;
    return p;
}

static inline double wi_log_series_tail(double s, double ef, double z, double p) {
    p = p * z + 1.0 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    return ef * 6.93147180369123816490e-01 + (ef * 1.90821492927058770002e-10 + (2.0 * s + 2.0 * s * z * p));
}

static inline double wi_log(double x) {
    double ef, s = wi_log_reduce(x, &ef), z = s * s;
    return wi_log_series_tail(s, ef, z, wi_log_series_head(z));
}

/* log(1 + y) for y in (-1/2, 1/2], accurate for tiny y (Goldberg's trick), from
 * u = fl(1 + y) and l = wi_log(u): a caller that also wants log(u) takes it once. */
static inline double wi_log1p_of(double y, double u, double l) {
    double d = u - 1.0;
    double corr = (y - d) / u;                   /* rounding lost in 1 + y */
    return (d == 0.0) ? y : l + corr;
}

static inline double wi_log1p(double y) {
    double u = 1.0 + y;
    return wi_log1p_of(y, u, wi_log(u));
}

/* ---- sin and cos of (pi/2) * x for x in [0, 1/2] ------------------------
 * float32: polynomials in x itself (no rounded product with pi/2): minimax for
 * the relative error on [0, 1/2], coefficients rounded to float32 and then
 * tuned an ulp at a time against all 2^22 angles the normal uses. Max error over
 * those: sin 1.61 ulp (degree 7), cos 1.57 ulp (degree 6); the Taylor form in
 * t = fl(x pi/2) that this replaced: 1.94 and 1.80. */
WI_ILP_FN void wi_sincos_quarter_f32_n(int n, const float *x, float *s, float *c) {
    float z[WI_ILP], ps[WI_ILP], pc[WI_ILP];
    WI_EACH(k, n) { z[k] = x[k] * x[k]; ps[k] = -0x1.2d9310p-8f; pc[k] = -0x1.4e845cp-6f; }
    WI_EACH(k, n) { ps[k] = ps[k] * z[k] + 0x1.465e92p-4f; pc[k] = pc[k] * z[k] + 0x1.03b080p-2f; }
    WI_EACH(k, n) { ps[k] = ps[k] * z[k] - 0x1.4abbc6p-1f; pc[k] = pc[k] * z[k] - 0x1.3bd39cp+0f; }
    WI_EACH(k, n) ps[k] = ps[k] * z[k] + 0x1.921fb6p+0f;
    WI_EACH(k, n) { s[k] = x[k] * ps[k]; c[k] = 1.0f + z[k] * pc[k]; }
}

/* float64: the Taylor series of sin and cos of t = fl(x pi/2) */
WI_ILP_FN void wi_sincos_quarter_n(int n, const double *x, double *s, double *c) {
    double t[WI_ILP], z[WI_ILP], ps[WI_ILP], pc[WI_ILP];
    WI_EACH(k, n) { t[k] = x[k] * 1.57079632679489661923; z[k] = t[k] * t[k]; }
    WI_EACH(k, n) { ps[k] = 1.0 / 355687428096000.0; pc[k] = -1.0 / 6402373705728000.0; }   /* 1/17!, 1/18! */
    WI_EACH(k, n) { ps[k] = ps[k] * z[k] - 1.0 / 1307674368000.0; pc[k] = pc[k] * z[k] + 1.0 / 20922789888000.0; }
    WI_EACH(k, n) { ps[k] = ps[k] * z[k] + 1.0 / 6227020800.0; pc[k] = pc[k] * z[k] - 1.0 / 87178291200.0; }
    WI_EACH(k, n) { ps[k] = ps[k] * z[k] - 1.0 / 39916800.0; pc[k] = pc[k] * z[k] + 1.0 / 479001600.0; }
    WI_EACH(k, n) { ps[k] = ps[k] * z[k] + 1.0 / 362880.0; pc[k] = pc[k] * z[k] - 1.0 / 3628800.0; }
    WI_EACH(k, n) { ps[k] = ps[k] * z[k] - 1.0 / 5040.0; pc[k] = pc[k] * z[k] + 1.0 / 40320.0; }
    WI_EACH(k, n) { ps[k] = ps[k] * z[k] + 1.0 / 120.0; pc[k] = pc[k] * z[k] - 1.0 / 720.0; }
    WI_EACH(k, n) { ps[k] = ps[k] * z[k] - 1.0 / 6.0; pc[k] = pc[k] * z[k] + 1.0 / 24.0; }
    WI_EACH(k, n) { s[k] = t[k] + t[k] * z[k] * ps[k]; c[k] = 1.0 - 0.5 * z[k] + z[k] * z[k] * pc[k]; }
}
#endif
