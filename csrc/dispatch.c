/* Which SIMD variants were compiled in and which this CPU can run. */
#include "weightinit.h"

int wi_isa_supported(int isa) {
    switch (isa) {
    case WI_ISA_SCALAR: return 1;
#if defined(WI_HAVE_AVX2) && (defined(__x86_64__) || defined(__i386__))
    case WI_ISA_AVX2: return __builtin_cpu_supports("avx2");
#endif
#if defined(WI_HAVE_AVX512) && (defined(__x86_64__) || defined(__i386__))
    case WI_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#endif
    default: return 0;
    }
}

int wi_isa_best(void) {
    if (wi_isa_supported(WI_ISA_AVX512)) return WI_ISA_AVX512;
    if (wi_isa_supported(WI_ISA_AVX2)) return WI_ISA_AVX2;
    return WI_ISA_SCALAR;
}
