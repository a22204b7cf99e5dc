/* Philox4x32-10 on 8 (AVX2) or 32 (AVX-512) blocks at once.
 * AVX2 does the 32x32->64 multiplies with mul_epu32 on the even lanes and on
 * the odd lanes shifted down, then blends high and low halves back; AVX-512
 * keeps one word per 64-bit lane instead. Both take about half the
 * instructions of what the compiler derives from the scalar code. Integer
 * arithmetic only, so the words equal the scalar ones exactly.
 * Included by fill_kernels.c only when compiled with the matching -m flags. */
#ifndef WI_PHILOX_SIMD_H
#define WI_PHILOX_SIMD_H
#include <immintrin.h>
#include "philox.h"

#if defined(__AVX512F__)
/* Each 32-bit counter word sits in a 64-bit lane, so mul_epu32 gives the whole
 * 32x32->64 product at once. The high halves of the lanes carry garbage between
 * rounds; mul_epu32 reads only the low halves, and the final permute keeps only
 * the low halves of two such vectors. */
#define WI_PHILOX_GROUPS 4   /* groups of 8 blocks in flight: enough to hide the multiply latency */
static inline void wi_philox8xG(__m512i c[WI_PHILOX_GROUPS][4], uint32_t k0, uint32_t k1) {
    const __m512i m0 = _mm512_set1_epi64(WI_PHILOX_M0), m1 = _mm512_set1_epi64(WI_PHILOX_M1);
    for (int r = 0; r < 10; r++) {
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
 * first_b + step i, i = 0..15 (no carry into counter word 1) */
static inline void wi_philox_lanes32(uint32_t first_a, uint32_t first_b, uint32_t step, uint32_t first_hi,
                                     uint32_t s0, uint32_t s1, uint32_t k0, uint32_t k1, uint32_t *w0,
                                     uint32_t *w1, uint32_t *w2, uint32_t *w3) {
    const __m512i iota = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i low_halves = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i st = _mm512_set1_epi64(step), lanes = _mm512_mul_epu32(iota, st);
    const __m512i eight = _mm512_slli_epi64(st, 3);
    __m512i hi = _mm512_set1_epi64(first_hi), v0 = _mm512_set1_epi64(s0), v1 = _mm512_set1_epi64(s1);
    __m512i la = _mm512_add_epi64(_mm512_set1_epi64(first_a), lanes);
    __m512i lb = _mm512_add_epi64(_mm512_set1_epi64(first_b), lanes);
    __m512i c[WI_PHILOX_GROUPS][4] = {{la, hi, v0, v1}, {_mm512_add_epi64(la, eight), hi, v0, v1},
                                      {lb, hi, v0, v1}, {_mm512_add_epi64(lb, eight), hi, v0, v1}};
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
#define WI_PHILOX_LANES 8
static inline void wi_mulhilo8(__m256i a, __m256i m, __m256i *hi, __m256i *lo) {
    __m256i pe = _mm256_mul_epu32(a, m);
    __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
}

static inline void wi_philox_lanes(uint32_t first_lo, uint32_t first_hi, uint32_t s0, uint32_t s1,
                                   uint32_t k0, uint32_t k1, uint32_t *w0, uint32_t *w1,
                                   uint32_t *w2, uint32_t *w3) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_set1_epi32((int)WI_PHILOX_M0), m1 = _mm256_set1_epi32((int)WI_PHILOX_M1);
    __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32((int)first_lo), iota);
    __m256i c1 = _mm256_set1_epi32((int)first_hi);
    __m256i c2 = _mm256_set1_epi32((int)s0), c3 = _mm256_set1_epi32((int)s1);
    for (int r = 0; r < 10; r++) {
        __m256i kk0 = _mm256_set1_epi32((int)(k0 + (uint32_t)r * WI_PHILOX_W0));
        __m256i kk1 = _mm256_set1_epi32((int)(k1 + (uint32_t)r * WI_PHILOX_W1));
        __m256i hi0, lo0, hi1, lo1;
        wi_mulhilo8(c0, m0, &hi0, &lo0);
        wi_mulhilo8(c2, m1, &hi1, &lo1);
        c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), kk0);
        c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), kk1);
        c1 = lo1;
        c3 = lo0;
    }
    _mm256_store_si256((__m256i *)w0, c0);
    _mm256_store_si256((__m256i *)w1, c1);
    _mm256_store_si256((__m256i *)w2, c2);
    _mm256_store_si256((__m256i *)w3, c3);
}
#endif
#endif
