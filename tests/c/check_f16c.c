/* Exhaustive check that F16C's float32 -> float16 conversion (round to nearest even
 * by the immediate, as fill_kernels.c's store_f16c uses it) gives the bits of the
 * portable wi_f32_to_f16 (csrc/convert.h) on every finite float32, under the default
 * MXCSR, with flush-to-zero and denormals-are-zero set (some libraries set them for
 * the whole process), and with another rounding mode (the immediate must win).
 * Build with -mf16c. Exit status 1 on any difference.
 * Run by tests/test_golden.py::test_f16c_conversion_is_the_portable_one (slow). */
#include <immintrin.h>
#include <stdio.h>
#include <math.h>
#include "convert.h"

/* F16C under MXCSR `csr` against the portable conversion under the default MXCSR
 * (the contract's values), a chunk of 2^16 float32 at a time */
static unsigned long long check(unsigned csr) {
    static uint16_t want[1 << 16], got[1 << 16];
    static float f[1 << 16];
    const unsigned dflt = _mm_getcsr();
    unsigned long long bad = 0;
    for (uint64_t base = 0; base < (1ull << 32); base += 1u << 16) {
        for (uint32_t k = 0; k < 1u << 16; k++) {
            f[k] = wi_bits_f32((uint32_t)(base + k));
            want[k] = wi_f32_to_f16(f[k]);
        }
        _mm_setcsr(csr);
        for (uint32_t k = 0; k < 1u << 16; k += 8)
            _mm_storeu_si128((__m128i *)(void *)(got + k),
                             _mm256_cvtps_ph(_mm256_loadu_ps(f + k), _MM_FROUND_TO_NEAREST_INT));
        _mm_setcsr(dflt);
        for (uint32_t k = 0; k < 1u << 16; k++)
            if (isfinite(f[k]) && got[k] != want[k] && bad++ < 5)
                fprintf(stderr, "0x%08x: f16c 0x%04x, portable 0x%04x\n", (unsigned)(base + k), got[k], want[k]);
    }
    return bad;
}

int main(void) {
    unsigned csr = _mm_getcsr();
    unsigned long long bad = check(csr);
    unsigned long long bad_ftz = check(csr | 0x8040);   /* FTZ (bit 15) and DAZ (bit 6) */
    unsigned long long bad_rc = check(csr | 0x6000);    /* rounding control: toward zero */
    printf("differences: %llu (default MXCSR), %llu (FTZ+DAZ), %llu (round toward zero)\n", bad, bad_ftz, bad_rc);
    return bad || bad_ftz || bad_rc;
}
