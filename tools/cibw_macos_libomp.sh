#!/usr/bin/env bash
# cibuildwheel before-all on macOS: conda-forge's llvm-openmp (libomp + omp.h) into
# $HOME/.fastloss-libomp, which setup.py uses through FASTLOSS_OPENMP_PREFIX. Apple
# clang compiles with -Xpreprocessor -fopenmp; delocate-wheel then copies
# libomp.dylib into the wheel (fastloss/.dylibs/).
#
# Why conda-forge and not Homebrew: Homebrew's libomp is built for the runner's own
# macOS version (14+ on current runners), so delocate would demand
# MACOSX_DEPLOYMENT_TARGET >= 14; conda-forge builds llvm-openmp for macOS 10.13
# (osx-64) and 11.0 (osx-arm64), below the targets in pyproject.toml.
set -euxo pipefail
case "$(uname -m)" in
    arm64) platform=osx-arm64 ;;
    x86_64) platform=osx-64 ;;
    *) echo "unsupported macOS arch $(uname -m)" >&2; exit 1 ;;
esac
prefix="$HOME/.fastloss-libomp"
tmp=$(mktemp -d)
curl -fsSL "https://micro.mamba.pm/api/micromamba/${platform}/latest" | tar -xj -C "$tmp" bin/micromamba
"$tmp/bin/micromamba" create --yes --root-prefix "$tmp/root" --prefix "$prefix" \
    --channel conda-forge --override-channels "llvm-openmp>=17"
ls -l "$prefix/lib/libomp.dylib" "$prefix/include/omp.h"
otool -l "$prefix/lib/libomp.dylib" | grep -A4 -E "LC_BUILD_VERSION|LC_VERSION_MIN_MACOSX" || true
