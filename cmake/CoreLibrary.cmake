# The C core as a static library: warnings on, strict IEEE (no contraction,
# no fast-math) so that every SIMD variant computes the same bits.
if(NOT CMAKE_C_COMPILER_ID MATCHES "GNU|Clang")
  message(FATAL_ERROR "weightinit's C core needs GCC or Clang (it uses their builtins and "
                      "strict floating-point flags); found ${CMAKE_C_COMPILER_ID}")
endif()
set(WI_CFLAGS -std=c11 -O3 -ffp-contract=off -fno-math-errno -fno-trapping-math -Wall -Wextra)
if(WEIGHTINIT_SANITIZE)
  set(WI_SAN -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  list(APPEND WI_CFLAGS ${WI_SAN})
endif()

add_library(weightinit_core STATIC csrc/fill.c csrc/dispatch.c csrc/householder.c csrc/householder_complex.c
            csrc/region.c)
set_target_properties(weightinit_core PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(weightinit_core PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/csrc)
target_compile_options(weightinit_core PRIVATE ${WI_CFLAGS})
target_link_libraries(weightinit_core PUBLIC m)
if(OpenMP_C_FOUND)
  target_link_libraries(weightinit_core PUBLIC OpenMP::OpenMP_C)
endif()

# One object library per ISA from the same source.
# -funroll-loops: the vectorized tile loops are dependency chains (polynomials,
# divisions); unrolled, more of them overlap (2-5% on every distribution, AVX2 Zen 3).
function(wi_kernel_variant suffix)
  add_library(wi_kernels_${suffix} OBJECT csrc/fill_kernels.c)
  set_target_properties(wi_kernels_${suffix} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_options(wi_kernels_${suffix} PRIVATE ${WI_CFLAGS} -funroll-loops ${ARGN})
  target_compile_definitions(wi_kernels_${suffix} PRIVATE WI_ISA_SUFFIX=${suffix})
  target_sources(weightinit_core PRIVATE $<TARGET_OBJECTS:wi_kernels_${suffix}>)
endfunction()

# Householder product kernels, same pattern; the SIMD variants add -mfma (their
# explicit fma() calls become vector FMAs; the scalar variant calls libm's fma,
# which is exact everywhere), so all variants give identical bits.
function(wi_hh_variant suffix)
  add_library(wi_hh_${suffix} OBJECT csrc/hh_kernels.c)
  set_target_properties(wi_hh_${suffix} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_options(wi_hh_${suffix} PRIVATE ${WI_CFLAGS} -fno-tree-loop-distribute-patterns ${ARGN})
  target_compile_definitions(wi_hh_${suffix} PRIVATE WI_ISA_SUFFIX=${suffix})
  target_sources(weightinit_core PRIVATE $<TARGET_OBJECTS:wi_hh_${suffix}>)
endfunction()
wi_hh_variant(scalar -fno-tree-vectorize)

# the portable variant vectorizes under the compiler's baseline (SSE2 on x86-64,
# NEON on aarch64): IEEE operations without contraction give the same bits in any width
wi_kernel_variant(scalar)

include(CheckCCompilerFlag)
if(WEIGHTINIT_SIMD AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  check_c_compiler_flag("-mavx2" WI_CC_AVX2)
  check_c_compiler_flag("-mavx512f -mavx512bw -mavx512dq -mavx512vl" WI_CC_AVX512)
  if(WI_CC_AVX2)
    wi_kernel_variant(avx2 -mavx2)
    wi_hh_variant(avx2 -mavx2 -mfma)
    target_compile_definitions(weightinit_core PRIVATE WI_HAVE_AVX2)
  endif()
  if(WI_CC_AVX512)
    wi_kernel_variant(avx512 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mprefer-vector-width=512)
    wi_hh_variant(avx512 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mprefer-vector-width=512)
    target_compile_definitions(weightinit_core PRIVATE WI_HAVE_AVX512)
  endif()
endif()

if(WEIGHTINIT_SANITIZE)
  target_link_options(weightinit_core PUBLIC ${WI_SAN})
endif()
