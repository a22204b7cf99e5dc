/* Rounding float32 to the 8-bit float formats (OCP FP8), round to nearest even,
 * with integer and plain float operations only (identical on every ISA), and
 * back. Inputs of the encoders are finite.
 *   float8_e4m3fn: bias 7, 3 mantissa bits, subnormal step 2^-9, largest 448,
 *                  no infinity: S.1111.111 is NaN, and overflow gives NaN.
 *   float8_e5m2:   bias 15, 2 mantissa bits, subnormal step 2^-16, largest 57344,
 *                  IEEE-like: overflow gives infinity (S.11111.00).
 * These are the rules of ml_dtypes and torch (tests compare all of them). */
#ifndef WI_CONVERT8_H
#define WI_CONVERT8_H
#include "wi_math.h"

static inline uint8_t wi_f32_to_e4m3(float f) {
    uint32_t x = wi_f32_bits(f);
    uint32_t sign = (x >> 24) & 0x80u;
    uint32_t a = x & 0x7fffffffu;
    /* subnormals (|f| < 2^-6): adding 2^14 makes the FPU round at 2^-9 */
    float t = wi_bits_f32(a) + 16384.0f;
    uint32_t sub = wi_f32_bits(t) - 0x46800000u;                  /* bits of 2^14 */
    /* normals: rebias the exponent (127 -> 7), round the 20 dropped bits to even */
    uint32_t nrm = (a - 0x3c000000u + 0x7ffffu + ((a >> 20) & 1u)) >> 20;
    uint32_t h = a < 0x3c800000u ? sub : nrm;                      /* 2^-6 */
    h = a > 0x43e80000u ? 0x7fu : h;   /* above 464, halfway from 448 to the missing 480: NaN */
    return (uint8_t)(h | sign);
}

static inline uint8_t wi_f32_to_e5m2(float f) {
    uint32_t x = wi_f32_bits(f);
    uint32_t sign = (x >> 24) & 0x80u;
    uint32_t a = x & 0x7fffffffu;
    /* subnormals (|f| < 2^-14): adding 2^7 makes the FPU round at 2^-16 */
    float t = wi_bits_f32(a) + 128.0f;
    uint32_t sub = wi_f32_bits(t) - 0x43000000u;                  /* bits of 2^7 */
    /* normals: rebias the exponent (127 -> 15), round the 21 dropped bits to even */
    uint32_t nrm = (a - 0x38000000u + 0xfffffu + ((a >> 21) & 1u)) >> 21;
    uint32_t h = a < 0x38800000u ? sub : nrm;                      /* 2^-14 */
    h = a >= 0x47700000u ? 0x7cu : h;  /* from 61440, halfway from 57344 to 2^16: infinity */
    return (uint8_t)(h | sign);
}

static inline float wi_e4m3_to_f32(uint8_t h) {
    uint32_t e = (h >> 3) & 0xfu, m = h & 7u;
    float v = e == 0 ? (float)m * 0x1p-9f : wi_bits_f32(((e + 120u) << 23) | (m << 20));
    v = (h & 0x7fu) == 0x7fu ? __builtin_nanf("") : v;
    return (h & 0x80u) ? -v : v;
}

static inline float wi_e5m2_to_f32(uint8_t h) {
    uint32_t e = (h >> 2) & 0x1fu, m = h & 3u;
    float v = e == 0 ? (float)m * 0x1p-16f : wi_bits_f32(((e + 112u) << 23) | (m << 21));
    v = e == 31 ? (m ? __builtin_nanf("") : __builtin_inff()) : v;
    return (h & 0x80u) ? -v : v;
}

#endif
