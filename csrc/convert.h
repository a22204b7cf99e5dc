/* Rounding to the 16-bit output formats, round-to-nearest-even, with integer
 * and plain float operations only (identical on every ISA). Inputs are finite. */
#ifndef WI_CONVERT_H
#define WI_CONVERT_H
#include "wi_math.h"

static inline uint16_t wi_f32_to_bf16(float f) {
    uint32_t x = wi_f32_bits(f);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

static inline uint16_t wi_f32_to_f16(float f) {
    uint32_t x = wi_f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t a = x & 0x7fffffffu;
    /* subnormal halves: adding 0.5 makes the FPU round at 2^-24, the f16 ulp */
    float t = wi_bits_f32(a) + 0.5f;
    uint32_t sub = wi_f32_bits(t) - 0x3f000000u;
    /* normal halves: rebias the exponent, round the 13 dropped bits to even */
    uint32_t nrm = (a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13;  /* 0xc8000000 = (15-127)<<23 mod 2^32 */
    uint32_t h = a < 0x38800000u ? sub : nrm;
    h = a >= 0x477ff000u ? 0x7c00u : h;                           /* >= 65520 rounds to inf */
    return (uint16_t)(h | sign);
}

/* float64 -> float32 rounding to odd: a later round-to-nearest-even to a format
 * with at least two fewer bits then equals one direct rounding of the float64. */
static inline float wi_f64_to_f32_odd(double x) {
    float y = (float)x;
    double back = (double)y;
    uint32_t yb = wi_f32_bits(y);
    double ax = x < 0 ? -x : x, ab = back < 0 ? -back : back;
    yb = ab > ax ? yb - 1u : yb;
    yb = back != x ? yb | 1u : yb;
    return wi_bits_f32(yb);
}

#endif
