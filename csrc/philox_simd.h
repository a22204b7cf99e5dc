/* Philox4x32-10 on 8 (AVX2) or 16 (AVX-512) consecutive blocks at once.
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
#define WI_PHILOX_LANES 16
/* Each 32-bit counter word sits in a 64-bit lane, so mul_epu32 gives the whole
 * 32x32->64 product at once. The high halves of the lanes carry garbage between
 * rounds; mul_epu32 reads only the low halves, and the final vpmovqd drops them. */
static inline void wi_philox8(__m512i c0, __m512i c1, __m512i c2, __m512i c3, uint32_t k0, uint32_t k1,
                              uint32_t *w0, uint32_t *w1, uint32_t *w2, uint32_t *w3) {
    const __m512i m0 = _mm512_set1_epi64(WI_PHILOX_M0), m1 = _mm512_set1_epi64(WI_PHILOX_M1);
    for (int r = 0; r < 10; r++) {
        __m512i kk0 = _mm512_set1_epi64(k0 + (uint32_t)r * WI_PHILOX_W0);
        __m512i kk1 = _mm512_set1_epi64(k1 + (uint32_t)r * WI_PHILOX_W1);
        __m512i p0 = _mm512_mul_epu32(c0, m0), p1 = _mm512_mul_epu32(c2, m1);
        c0 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p1, 32), c1, kk0, 0x96);   /* 3-way xor */
        c2 = _mm512_ternarylogic_epi64(_mm512_srli_epi64(p0, 32), c3, kk1, 0x96);
        c1 = p1;
        c3 = p0;
    }
    _mm256_store_si256((__m256i *)w0, _mm512_cvtepi64_epi32(c0));
    _mm256_store_si256((__m256i *)w1, _mm512_cvtepi64_epi32(c1));
    _mm256_store_si256((__m256i *)w2, _mm512_cvtepi64_epi32(c2));
    _mm256_store_si256((__m256i *)w3, _mm512_cvtepi64_epi32(c3));
}

/* blocks first .. first+15 (first's low 4 bits zero, no carry into word 1) */
static inline void wi_philox_lanes(uint32_t first_lo, uint32_t first_hi, uint32_t s0, uint32_t s1,
                                   uint32_t k0, uint32_t k1, uint32_t *w0, uint32_t *w1,
                                   uint32_t *w2, uint32_t *w3) {
    const __m512i iota = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
    __m512i lo = _mm512_add_epi64(_mm512_set1_epi64(first_lo), iota);
    __m512i hi = _mm512_set1_epi64(first_hi), v0 = _mm512_set1_epi64(s0), v1 = _mm512_set1_epi64(s1);
    wi_philox8(lo, hi, v0, v1, k0, k1, w0, w1, w2, w3);
    wi_philox8(_mm512_add_epi64(lo, _mm512_set1_epi64(8)), hi, v0, v1, k0, k1, w0 + 8, w1 + 8, w2 + 8, w3 + 8);
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
