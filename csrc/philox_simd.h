/* Philox4x32-10 on many blocks at once: 32 (AVX2: four groups of 8; AVX-512) or
 * 16 (the portable variant: SSE2 on x86-64, NEON on aarch64, four groups of 4).
 * AVX2 does the 32x32->64 multiplies with mul_epu32 on the even lanes and on
 * the odd lanes shifted down, then blends high and low halves back; AVX-512
 * keeps one word per 64-bit lane instead. Both take about half the
 * instructions of what the compiler derives from the scalar code. Integer
 * arithmetic only, so the words equal the scalar ones exactly. Every variant
 * takes rounds 0 and 1 from wi_philox_rounds01 (one vector product a round
 * instead of two: 8% off uniform_ on AVX2; on AVX-512 checked for its bits under
 * SIMDe, scripts/cross_check.sh avx512-simde, but not yet timed).
 * Included by fill_kernels.c only when compiled with the matching -m flags. */
#ifndef WI_PHILOX_SIMD_H
#define WI_PHILOX_SIMD_H
#include "philox.h"
#if defined(__AVX2__) || defined(__AVX512F__) || defined(__SSE2__)
#include <immintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

#if defined(__AVX512F__)
/* Each 32-bit counter word sits in a 64-bit lane, so mul_epu32 gives the whole
 * 32x32->64 product at once. The high halves of the lanes carry garbage between
 * rounds; mul_epu32 reads only the low halves, and the final permute keeps only
 * the low halves of two such vectors. */
#define WI_PHILOX_GROUPS 4   /* groups of 8 blocks in flight: enough to hide the multiply latency */
/* rounds 2-9; rounds 0 and 1 are done by the caller (wi_philox_rounds01) */
static inline void wi_philox8xG(__m512i c[WI_PHILOX_GROUPS][4], uint32_t k0, uint32_t k1) {
    const __m512i m0 = _mm512_set1_epi64(WI_PHILOX_M0), m1 = _mm512_set1_epi64(WI_PHILOX_M1);
    for (int r = 2; r < 10; r++) {
        __m512i kk0 = _mm512_set1_epi64(k0 + (uint32_t)r * WI_PHILOX_W0);
        __m512i kk1 = _mm512_set1_epi64(k1 + (uint32_t)r * WI_PHILOX_W1);
        for (int g = 0; g < WI_PHILOX_GROUPS; g++) {
            __m512i p0 = _mm512_mul_epu32(c[g][0], m0), p1 = _mm512_mul_epu32(c[g][2], m1);
            c[g][0] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c[g][1], kk0, 0x96);   /* 3-way xor */
            c[g][2] = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c[g][3], kk1, 0x96);
            c[g][1] = p1;
            c[g][3] = p0;
        }
    }
}

/* 32 blocks: w[h][0..15] from blocks first_a + step i, w[h][16..31] from
 * first_b + step i, i = 0..15 (no carry into counter word 1). Counter words 1-3
 * are the same in all of them: rounds 0 and 1 take one product each, as on the
 * other vector paths (philox.h: wi_philox_rounds01). */
static inline void wi_philox_lanes32(uint32_t first_a, uint32_t first_b, uint32_t step, uint32_t first_hi,
                                     uint32_t s0, uint32_t s1, uint32_t k0, uint32_t k1, uint32_t *w0,
                                     uint32_t *w1, uint32_t *w2, uint32_t *w3) {
    const __m512i iota = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i low_halves = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i m0 = _mm512_set1_epi64(WI_PHILOX_M0), m1 = _mm512_set1_epi64(WI_PHILOX_M1);
    const __m512i st = _mm512_set1_epi64(step), lanes = _mm512_mul_epu32(iota, st);
    const __m512i eight = _mm512_slli_epi64(st, 3);
    const wi_philox_head ph = wi_philox_rounds01(first_hi, s0, s1, k0, k1);
    const __m512i x0 = _mm512_set1_epi64(ph.x0), x1 = _mm512_set1_epi64(ph.x1), x2 = _mm512_set1_epi64(ph.x2);
    __m512i la = _mm512_add_epi64(_mm512_set1_epi64(first_a), lanes);
    __m512i lb = _mm512_add_epi64(_mm512_set1_epi64(first_b), lanes);
    const __m512i first[WI_PHILOX_GROUPS] = {la, _mm512_add_epi64(la, eight), lb, _mm512_add_epi64(lb, eight)};
    __m512i c[WI_PHILOX_GROUPS][4];
    for (int g = 0; g < WI_PHILOX_GROUPS; g++) {   /* the words after round 1 */
        __m512i p0 = _mm512_mul_epu32(first[g], m0);                              /* hi0, lo0 */
        __m512i p1 = _mm512_mul_epu32(_mm512_xor_si512(_mm512_srli_epi64(p0, 32), x2), m1);   /* hi1, lo1 */
        c[g][0] = _mm512_xor_si512(_mm512_srli_epi64(p1, 32), x0);
        c[g][1] = p1;
        c[g][2] = _mm512_xor_si512(p0, x1);
        c[g][3] = _mm512_set1_epi64(ph.w3);
    }
    wi_philox8xG(c, k0, k1);
    uint32_t *w[4] = {w0, w1, w2, w3};
    for (int h = 0; h < 4; h++) {
        _mm512_store_si512((void *)w[h], _mm512_permutex2var_epi32(c[0][h], low_halves, c[1][h]));
        _mm512_store_si512((void *)(w[h] + 16), _mm512_permutex2var_epi32(c[2][h], low_halves, c[3][h]));
    }
}

#define WI_PHILOX_LANES 32
/* blocks first .. first+31 (no carry into counter word 1) */
static inline void wi_philox_lanes(uint32_t first_lo, uint32_t first_hi, uint32_t s0, uint32_t s1,
                                   uint32_t k0, uint32_t k1, uint32_t *w0, uint32_t *w1,
                                   uint32_t *w2, uint32_t *w3) {
    wi_philox_lanes32(first_lo, first_lo + 16, 1, first_hi, s0, s1, k0, k1, w0, w1, w2, w3);
}
#elif defined(__AVX2__)
/* The other vector paths share one body (below) over these adapters: a vector of
 * WI_VLANES 32-bit words, its few operations, and the 32x32->64 products. */
#define WI_VLANES 8
typedef __m256i wi_vec;
static inline wi_vec wi_vset1(uint32_t x) { return _mm256_set1_epi32((int)x); }
static inline wi_vec wi_vadd(wi_vec a, wi_vec b) { return _mm256_add_epi32(a, b); }
static inline wi_vec wi_vxor(wi_vec a, wi_vec b) { return _mm256_xor_si256(a, b); }
static inline wi_vec wi_viota(void) { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
static inline void wi_vstore(uint32_t *p, wi_vec a) { _mm256_store_si256((__m256i *)(void *)p, a); }
/* high halves from mul_epu32 on even and (shifted) odd lanes; low halves with
 * one mullo (one uop on AMD Zen, two on Intel: as many as the shift and blend
 * it replaces) */
static inline void wi_mulhilo(wi_vec a, wi_vec m, wi_vec *hi, wi_vec *lo) {
    __m256i pe = _mm256_mul_epu32(a, m);
    __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *lo = _mm256_mullo_epi32(a, m);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
}
#elif defined(__SSE2__)
/* The portable x86-64 variant: SSE2 is part of the baseline. pmuludq multiplies
 * the even lanes; the odd lanes are shifted down and multiplied likewise; and/or
 * put the halves back (SSE2 has no blend). */
#define WI_VLANES 4
typedef __m128i wi_vec;
static inline wi_vec wi_vset1(uint32_t x) { return _mm_set1_epi32((int)x); }
static inline wi_vec wi_vadd(wi_vec a, wi_vec b) { return _mm_add_epi32(a, b); }
static inline wi_vec wi_vxor(wi_vec a, wi_vec b) { return _mm_xor_si128(a, b); }
static inline wi_vec wi_viota(void) { return _mm_setr_epi32(0, 1, 2, 3); }
static inline void wi_vstore(uint32_t *p, wi_vec a) { _mm_store_si128((__m128i *)(void *)p, a); }
static inline void wi_mulhilo(wi_vec a, wi_vec m, wi_vec *hi, wi_vec *lo) {
    const __m128i low32 = _mm_set_epi32(0, -1, 0, -1);
    __m128i pe = _mm_mul_epu32(a, m);
    __m128i po = _mm_mul_epu32(_mm_srli_epi64(a, 32), m);
    *lo = _mm_or_si128(_mm_and_si128(pe, low32), _mm_slli_epi64(po, 32));
    *hi = _mm_or_si128(_mm_srli_epi64(pe, 32), _mm_andnot_si128(low32, po));
}
#elif defined(__ARM_NEON) && defined(__aarch64__)
/* The portable aarch64 variant: NEON is part of the baseline. vmull_u32 gives
 * the full 32x32->64 products of two lanes; uzp1/uzp2 collect low and high halves. */
#define WI_VLANES 4
typedef uint32x4_t wi_vec;
static inline wi_vec wi_vset1(uint32_t x) { return vdupq_n_u32(x); }
static inline wi_vec wi_vadd(wi_vec a, wi_vec b) { return vaddq_u32(a, b); }
static inline wi_vec wi_vxor(wi_vec a, wi_vec b) { return veorq_u32(a, b); }
static inline wi_vec wi_viota(void) { const uint32_t i[4] = {0, 1, 2, 3}; return vld1q_u32(i); }
static inline void wi_vstore(uint32_t *p, wi_vec a) { vst1q_u32(p, a); }
static inline void wi_mulhilo(wi_vec a, wi_vec m, wi_vec *hi, wi_vec *lo) {
    uint32x4_t p01 = vreinterpretq_u32_u64(vmull_u32(vget_low_u32(a), vget_low_u32(m)));
    uint32x4_t p23 = vreinterpretq_u32_u64(vmull_high_u32(a, m));
    *lo = vuzp1q_u32(p01, p23);
    *hi = vuzp2q_u32(p01, p23);
}
#endif

#ifdef WI_VLANES
/* Four groups of WI_VLANES blocks in flight: one group's rounds form a dependency
 * chain of multiplies; interleaving independent groups hides its latency (as on
 * AVX-512). Rounds 0 and 1 take one product each (wi_philox_rounds01). */
#define WI_PHILOX_GROUPS 4
#define WI_PHILOX_LANES (WI_PHILOX_GROUPS * WI_VLANES)

/* blocks first .. first+WI_PHILOX_LANES-1 (no carry into counter word 1) */
static inline void wi_philox_lanes(uint32_t first_lo, uint32_t first_hi, uint32_t s0, uint32_t s1,
                                   uint32_t k0, uint32_t k1, uint32_t *w0, uint32_t *w1,
                                   uint32_t *w2, uint32_t *w3) {
    const wi_vec iota = wi_viota(), m0 = wi_vset1(WI_PHILOX_M0), m1 = wi_vset1(WI_PHILOX_M1);
    const wi_philox_head ph = wi_philox_rounds01(first_hi, s0, s1, k0, k1);
    const wi_vec x0 = wi_vset1(ph.x0), x1 = wi_vset1(ph.x1), x2 = wi_vset1(ph.x2);
    wi_vec c0[WI_PHILOX_GROUPS], c1[WI_PHILOX_GROUPS], c2[WI_PHILOX_GROUPS], c3[WI_PHILOX_GROUPS];
    for (int g = 0; g < WI_PHILOX_GROUPS; g++) {
        wi_vec hi0, lo0, hi1, lo1;
        wi_mulhilo(wi_vadd(wi_vset1(first_lo + (uint32_t)(WI_VLANES * g)), iota), m0, &hi0, &lo0);
        wi_mulhilo(wi_vxor(hi0, x2), m1, &hi1, &lo1);
        c0[g] = wi_vxor(hi1, x0);
        c1[g] = lo1;
        c2[g] = wi_vxor(lo0, x1);
        c3[g] = wi_vset1(ph.w3);
    }
    for (int r = 2; r < 10; r++) {
        wi_vec kk0 = wi_vset1(k0 + (uint32_t)r * WI_PHILOX_W0), kk1 = wi_vset1(k1 + (uint32_t)r * WI_PHILOX_W1);
        for (int g = 0; g < WI_PHILOX_GROUPS; g++) {
            wi_vec hi0, lo0, hi1, lo1;
            wi_mulhilo(c0[g], m0, &hi0, &lo0);
            wi_mulhilo(c2[g], m1, &hi1, &lo1);
            c0[g] = wi_vxor(wi_vxor(hi1, c1[g]), kk0);
            c2[g] = wi_vxor(wi_vxor(hi0, c3[g]), kk1);
            c1[g] = lo1;
            c3[g] = lo0;
        }
    }
    for (int g = 0; g < WI_PHILOX_GROUPS; g++) {
        wi_vstore(w0 + WI_VLANES * g, c0[g]);
        wi_vstore(w1 + WI_VLANES * g, c1[g]);
        wi_vstore(w2 + WI_VLANES * g, c2[g]);
        wi_vstore(w3 + WI_VLANES * g, c3[g]);
    }
}
#endif
#endif
