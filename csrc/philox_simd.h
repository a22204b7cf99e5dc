/* Philox4x32-10 on 8 (AVX2) or 16 (AVX-512) consecutive blocks at once.
 * The 32x32->64 multiplies use mul_epu32 on the even lanes and on the odd
 * lanes shifted down, then blend high and low halves back: about half the
 * instructions of what the compiler derives from the scalar code. Integer
 * arithmetic only, so the words equal the scalar ones exactly.
 * Included by fill_kernels.c only when compiled with the matching -m flags. */
#ifndef WI_PHILOX_SIMD_H
#define WI_PHILOX_SIMD_H
#include <immintrin.h>
#include "philox.h"

#if defined(__AVX512F__)
#define WI_PHILOX_LANES 16
static inline void wi_mulhilo16(__m512i a, __m512i m, __m512i *hi, __m512i *lo) {
    __m512i pe = _mm512_mul_epu32(a, m);
    __m512i po = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *lo = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 32), po);
}

/* blocks first .. first+15 (first's low 4 bits zero, no carry into word 1) */
static inline void wi_philox_lanes(uint32_t first_lo, uint32_t first_hi, uint32_t s0, uint32_t s1,
                                   uint32_t k0, uint32_t k1, uint32_t *w0, uint32_t *w1,
                                   uint32_t *w2, uint32_t *w3) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i m0 = _mm512_set1_epi32((int)WI_PHILOX_M0), m1 = _mm512_set1_epi32((int)WI_PHILOX_M1);
    __m512i c0 = _mm512_add_epi32(_mm512_set1_epi32((int)first_lo), iota);
    __m512i c1 = _mm512_set1_epi32((int)first_hi);
    __m512i c2 = _mm512_set1_epi32((int)s0), c3 = _mm512_set1_epi32((int)s1);
    for (int r = 0; r < 10; r++) {
        __m512i kk0 = _mm512_set1_epi32((int)(k0 + (uint32_t)r * WI_PHILOX_W0));
        __m512i kk1 = _mm512_set1_epi32((int)(k1 + (uint32_t)r * WI_PHILOX_W1));
        __m512i hi0, lo0, hi1, lo1;
        wi_mulhilo16(c0, m0, &hi0, &lo0);
        wi_mulhilo16(c2, m1, &hi1, &lo1);
        c0 = _mm512_ternarylogic_epi32(hi1, c1, kk0, 0x96);   /* three-way xor */
        c2 = _mm512_ternarylogic_epi32(hi0, c3, kk1, 0x96);
        c1 = lo1;
        c3 = lo0;
    }
    _mm512_store_si512((void *)w0, c0);
    _mm512_store_si512((void *)w1, c1);
    _mm512_store_si512((void *)w2, c2);
    _mm512_store_si512((void *)w3, c3);
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
