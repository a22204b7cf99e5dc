#!/usr/bin/env bash
# Build the C core for another target, plus the same driver natively, run both and
# compare their golden outputs byte for byte.
#
#   scripts/cross_check.sh [TARGET] [OUTDIR]
#
# TARGET:
#   aarch64 (default), or any ARCH with ARCH-linux-gnu-gcc and qemu-ARCH installed:
#     the core cross-compiled, the foreign driver run under qemu-user.
#     Needs (Debian): gcc-aarch64-linux-gnu qemu-user.
#   avx512-simde: the AVX-512 variants of the kernels (fill_kernels.c, hh_kernels.c)
#     with every intrinsic in SIMDe's portable C (tests/c/simde_avx512/immintrin.h),
#     built as the driver's only variant, so it runs on any x86-64: the AVX-512
#     intrinsic code (Philox, the bfloat16 split order, the GEMM tiles) checked
#     where no AVX-512 CPU or emulator is at hand. The compiler's own vector code
#     is then SSE2's, not AVX-512's: what this leaves unchecked is the compiler.
#     Needs (Debian): libsimde-dev.
# Exit 0: identical bits; 1: differ; 3: tools missing.
set -euo pipefail
arch=${1:-aarch64}
out=${2:-build/cross-$arch}
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "$arch" = avx512-simde ]; then
  cc=gcc qemu=""
  if ! command -v gcc >/dev/null || [ ! -e /usr/include/simde/x86/avx512.h ]; then
    echo "cross_check: needs gcc and SIMDe (Debian: libsimde-dev)" >&2
    exit 3
  fi
  # the macros -mavx512f -mavx512bw -mavx512dq -mavx512vl (-mfma) define, without
  # the instructions; SIMDe's header in place of the compiler's
  foreign=(-D__AVX__ -D__AVX2__ -D__SSE3__ -D__SSSE3__ -D__SSE4_1__ -D__SSE4_2__ -D__FMA__
           -D__AVX512F__ -D__AVX512BW__ -D__AVX512DQ__ -D__AVX512VL__ -I"$root/tests/c/simde_avx512"
           -Wno-psabi)
else
  cc="$arch-linux-gnu-gcc"
  qemu=$(command -v "qemu-$arch" || command -v "qemu-$arch-static" || true)
  if ! command -v "$cc" >/dev/null || [ -z "$qemu" ] || ! command -v gcc >/dev/null; then
    echo "cross_check: needs $cc, qemu-$arch and gcc (Debian: gcc-$arch-linux-gnu qemu-user)" >&2
    exit 3
  fi
  qemu="$qemu -L /usr/$arch-linux-gnu"
  foreign=()
fi
# the flags of cmake/CoreLibrary.cmake's portable variants: strict IEEE, no contraction
flags=(-std=c11 -O3 -ffp-contract=off -fno-math-errno -fno-trapping-math -Wall -Wextra -Werror -fopenmp
       -I"$root/csrc")
# every C file of the core; the per-ISA kernel files are compiled below as their scalar variant
src=("$root/tests/c/golden_driver.c")
for f in "$root"/csrc/*.c; do
  case $(basename "$f") in fill_kernels.c|hh_kernels.c) ;; *) src+=("$f") ;; esac
done
variants=(-DWI_ISA_SUFFIX=scalar)   # vectorized under the baseline (SSE2 / NEON), as in cmake
mkdir -p "$out/native" "$out/$arch" "$out/obj"
build() {  # $1: compiler, $2: output binary, $3: name, then the target's own flags
  local c=$1 bin=$2 name=$3; shift 3
  "$c" "${flags[@]}" "$@" "${variants[@]}" -c "$root/csrc/fill_kernels.c" -o "$out/obj/fk-$name.o"
  if [ $# = 0 ]; then   # the portable GEMM: plain C, one fma() per product
    "$c" "${flags[@]}" -DWI_ISA_SUFFIX=scalar -fno-tree-vectorize -fno-tree-loop-distribute-patterns \
         -c "$root/csrc/hh_kernels.c" -o "$out/obj/hh-$name.o"
  else
    "$c" "${flags[@]}" "$@" -DWI_ISA_SUFFIX=scalar -c "$root/csrc/hh_kernels.c" -o "$out/obj/hh-$name.o"
  fi
  "$c" "${flags[@]}" "${src[@]}" "$out/obj/fk-$name.o" "$out/obj/hh-$name.o" -lm -o "$bin"
}
build gcc "$out/golden-native" native
build "$cc" "$out/golden-$arch" "$arch" ${foreign[@]+"${foreign[@]}"}
seed=20261122 stream=${WI_STREAM:-0} offset=1000 n=3001
"$out/golden-native" "$out/native" $seed $stream $offset $n >/dev/null
$qemu "$out/golden-$arch" "$out/$arch" $seed $stream $offset $n >/dev/null
status=0
for f in "$out/native"/*.bin; do
  name=$(basename "$f")
  if ! cmp -s "$f" "$out/$arch/$name"; then echo "differs: $name"; status=1; fi
done
count=$(ls "$out/native"/*.bin | wc -l)
[ $status = 0 ] && echo "cross_check: $arch gives the same bits as $(uname -m) in all $count cases"
exit $status
