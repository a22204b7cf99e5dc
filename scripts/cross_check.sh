#!/usr/bin/env bash
# Build the C core for another architecture (default aarch64) with the Debian cross
# compiler, plus the same driver natively, run both (the foreign one under qemu-user)
# and compare their golden outputs byte for byte.
#
#   scripts/cross_check.sh [ARCH] [OUTDIR]     # ARCH: aarch64 (default), or any with
#                                             # ARCH-linux-gnu-gcc and qemu-ARCH installed
# Needs (Debian): gcc-aarch64-linux-gnu qemu-user. Exit 0: identical bits; 1: differ;
# 3: tools missing.
set -euo pipefail
arch=${1:-aarch64}
out=${2:-build/cross-$arch}
root=$(cd "$(dirname "$0")/.." && pwd)
cc="$arch-linux-gnu-gcc"
qemu=$(command -v "qemu-$arch" || command -v "qemu-$arch-static" || true)
if ! command -v "$cc" >/dev/null || [ -z "$qemu" ] || ! command -v gcc >/dev/null; then
  echo "cross_check: needs $cc, qemu-$arch and gcc (Debian: gcc-$arch-linux-gnu qemu-user)" >&2
  exit 3
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
build() {  # $1: compiler, $2: output binary
  "$1" "${flags[@]}" "${variants[@]}" -c "$root/csrc/fill_kernels.c" -o "$out/obj/fk-$3.o"
  "$1" "${flags[@]}" -DWI_ISA_SUFFIX=scalar -fno-tree-vectorize -fno-tree-loop-distribute-patterns \
       -c "$root/csrc/hh_kernels.c" -o "$out/obj/hh-$3.o"
  "$1" "${flags[@]}" "${src[@]}" "$out/obj/fk-$3.o" "$out/obj/hh-$3.o" -lm -o "$2"
}
build gcc "$out/golden-native" native
build "$cc" "$out/golden-$arch" "$arch"
seed=20261122 stream=${WI_STREAM:-0} offset=1000 n=3001
"$out/golden-native" "$out/native" $seed $stream $offset $n >/dev/null
"$qemu" -L "/usr/$arch-linux-gnu" "$out/golden-$arch" "$out/$arch" $seed $stream $offset $n >/dev/null
status=0
for f in "$out/native"/*.bin; do
  name=$(basename "$f")
  if ! cmp -s "$f" "$out/$arch/$name"; then echo "differs: $name"; status=1; fi
done
count=$(ls "$out/native"/*.bin | wc -l)
[ $status = 0 ] && echo "cross_check: $arch gives the same bits as $(uname -m) in all $count cases"
exit $status
