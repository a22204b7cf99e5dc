/* Which SIMD variants were compiled in and which this CPU can run. Both vector
 * variants also use FMA (the Householder kernels) and F16C (float16 stores), which
 * every CPU with AVX2 has; checked all the same, for virtual CPUs that hide them. */
#include "weightinit.h"

#if (defined(WI_HAVE_AVX2) || defined(WI_HAVE_AVX512)) && (defined(__x86_64__) || defined(__i386__))
static int has_fma_f16c(void) { return __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"); }
#endif

int wi_isa_supported(int isa) {
    switch (isa) {
    case WI_ISA_SCALAR: return 1;
#if defined(WI_HAVE_AVX2) && (defined(__x86_64__) || defined(__i386__))
    case WI_ISA_AVX2: return __builtin_cpu_supports("avx2") && has_fma_f16c();
#endif
#if defined(WI_HAVE_AVX512) && (defined(__x86_64__) || defined(__i386__))
    case WI_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && has_fma_f16c();
#endif
    default: return 0;
    }
}

int wi_isa_best(void) {
    if (wi_isa_supported(WI_ISA_AVX512)) return WI_ISA_AVX512;
    if (wi_isa_supported(WI_ISA_AVX2)) return WI_ISA_AVX2;
    return WI_ISA_SCALAR;
}
