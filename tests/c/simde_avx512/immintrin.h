/* <immintrin.h> for running the AVX-512 code paths of the C core on a CPU
 * without AVX-512 (scripts/cross_check.sh avx512-simde): every _mm512_* (and
 * _mm_*) intrinsic becomes SIMDe's portable C implementation. It is found
 * before the compiler's own header because its folder is first in -I.
 * Below: what SIMDe 0.7.4 (Debian bookworm's libsimde-dev) lacks or does
 * differently from the instructions. */
#pragma once
#define SIMDE_ENABLE_NATIVE_ALIASES
#define SIMDE_NO_NATIVE
#include <simde/x86/avx512.h>
#include <simde/x86/f16c.h>
#include <math.h>
#include <string.h>

typedef simde__mmask8 __mmask8;
typedef simde__mmask16 __mmask16;
typedef simde__mmask32 __mmask32;
typedef simde__mmask64 __mmask64;

/* the 16-bit lanes i of a whose bit i of k is set, stored to p + 2 i */
static inline void wi_emu_mask_storeu_epi16(void *p, __mmask32 k, simde__m512i a) {
    uint16_t lanes[32];
    memcpy(lanes, &a, sizeof lanes);
    for (int i = 0; i < 32; i++)
        if ((k >> i) & 1u) memcpy((char *)p + 2 * i, &lanes[i], 2);
}
#define _mm512_mask_storeu_epi16(p, k, a) wi_emu_mask_storeu_epi16((p), (k), (a))

/* a non-temporal store writes the same bytes */
#define _mm512_stream_si512(p, a) simde_mm512_storeu_si512((p), (a))

/* SIMDe's portable fmadd computes a * b + c with two roundings; the instruction
 * rounds once, as fma() does */
#define WI_EMU_FMADD(sfx, V, T, LANES, FMA)                                     \
    static inline V wi_emu_fmadd_##sfx(V a, V b, V c) {                         \
        T x[LANES], y[LANES], z[LANES];                                         \
        memcpy(x, &a, 64); memcpy(y, &b, 64); memcpy(z, &c, 64);                \
        for (int i = 0; i < LANES; i++) x[i] = FMA(x[i], y[i], z[i]);           \
        memcpy(&a, x, 64);                                                      \
        return a;                                                               \
    }
WI_EMU_FMADD(ps, simde__m512, float, 16, fmaf)
WI_EMU_FMADD(pd, simde__m512d, double, 8, fma)
#undef _mm512_fmadd_ps
#undef _mm512_fmadd_pd
#define _mm512_fmadd_ps(a, b, c) wi_emu_fmadd_ps((a), (b), (c))
#define _mm512_fmadd_pd(a, b, c) wi_emu_fmadd_pd((a), (b), (c))

/* float16 conversion of 16 lanes (SIMDe 0.7.4 has the 8-lane one only): two halves.
 * SIMDe rounds to nearest even whatever the immediate says; that the immediate is
 * right is checked on the CPU itself (tests/c/check_f16c.c, the 8-lane form). */
static inline simde__m256i wi_emu_cvtps_ph512(simde__m512 a, int rounding) {
    simde__m256 half[2];
    simde__m128i h[2];
    simde__m256i r;
    memcpy(half, &a, 64);
    for (int i = 0; i < 2; i++) h[i] = simde_mm256_cvtps_ph(half[i], rounding);
    memcpy(&r, h, 32);
    return r;
}
#define _mm512_cvtps_ph(a, r) wi_emu_cvtps_ph512((a), (r))
