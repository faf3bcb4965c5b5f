#!/usr/bin/env bash
# Memory-safety run: build fastloss with AddressSanitizer in a scratch copy of
# the source tree and run the whole test suite (or the pytest arguments given)
# with ASan preloaded into the (uninstrumented) interpreter.
#
#   tools/asan_tests.sh                 # the whole suite
#   tools/asan_tests.sh -x tests/test_reliability.py
#   tools/asan_tests.sh --run python tools/fuzz.py --runs 100000   # any command
#
# Needs gcc (or clang via CC=clang) with libasan, and the build requirements
# (setuptools, Cython, numpy) plus the test requirements in the active Python.
# The checkout is not touched: the ASan build lives in a temporary directory.
# Exit status: pytest's; ASan aborts the run (non-zero) on the first error.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python}
cc=${CC:-gcc}
start=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/fastloss-asan.XXXXXX")
if [[ -z "${FASTLOSS_KEEP_BUILD:-}" ]]; then trap 'rm -rf "$work"' EXIT; fi
# Tracked and untracked-but-not-ignored files: the source, never old build products.
git -C "$root" ls-files -co --exclude-standard -z | (cd "$root" && xargs -0 tar -cf - --) | tar -C "$work" -xf -

"$py" -c "import Cython, setuptools, numpy" 2>/dev/null ||
    "$py" -m pip install -q "setuptools>=77" "Cython>=3.1" "numpy>=2"
# Two SIMD levels, unless FASTLOSS_SIMD_LEVELS says otherwise: the best this CPU runs
# (where the suite runs) and the baseline (forced by the level tests; its C differs:
# _tile8.h's loads without AVX2, the float64 forms of the FMA functions). A third level
# compiles the same C as the best one again, ~130 s of the build here.
levels=${FASTLOSS_SIMD_LEVELS:-$("$py" - "$root" <<'EOF'
import runpy, sys
d = runpy.run_path(f"{sys.argv[1]}/src/fastloss/_dispatch_levels.py")
best = d["cpu_levels"](d["cpu_features"]())[0]
print(",".join(dict.fromkeys([best, "baseline"])))
EOF
)}
echo "asan_tests: SIMD levels $levels"
(cd "$work" && CC="$cc" FASTLOSS_SANITIZE=address FASTLOSS_SIMD_LEVELS="$levels" \
    "$py" setup.py -q build_ext --inplace >build.log 2>&1) ||
    { tail -40 "$work/build.log"; exit 1; }
for so in "$work"/src/fastloss/*.so; do
    grep -q __asan_report "$so" || { echo "asan_tests: $so is not instrumented" >&2; exit 1; }
done
echo "asan_tests: ASan build done in $((SECONDS - start)) s ($work)"

libasan=$("$cc" -print-file-name=libasan.so)
[[ -e "$libasan" ]] || { echo "asan_tests: $cc has no libasan.so" >&2; exit 1; }
# detect_leaks=0: CPython's interned objects and arenas are never freed and would
# all be reported. Everything else (heap/stack/global overflow, use-after-free,
# double free) aborts the run.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=0:${ASAN_OPTIONS:-}"
t0=$SECONDS
set +e
if [[ "${1:-}" == "--run" ]]; then
    shift
    what="$*"
    (cd "$work" && LD_PRELOAD="$libasan" PYTHONPATH="$work/src" "$@")
else
    what="pytest"
    # Deselected under ASan: the tests that drive PyTorch (test ids containing
    # "torch") and the examples (one trains a torch model). With libasan preloaded,
    # a C++ exception thrown inside libtorch aborts the interpreter (no ASan report;
    # seen in CI at tests/test_examples.py). They are Python glue over the kernels
    # that every other test here runs under ASan. Likewise what imports matplotlib's
    # C++ extensions, which throw C++ exceptions at import, where the preloaded libasan
    # aborts in its __cxa_throw interceptor (seen in CI, no report): the check that the
    # docstrings' LaTeX parses, and python -m fastloss --plot (test_cli's "plot" tests,
    # whose children inherit LD_PRELOAD).
    if [[ $# -eq 0 ]]; then
        set -- --ignore=tests/test_examples.py -k "not torch and not latex_math and not plot"
    fi
    (cd "$work" && LD_PRELOAD="$libasan" PYTHONPATH="$work/src" \
        "$py" -m pytest -p no:cacheprovider -q "$@")
fi
rc=$?
set -e
echo "asan_tests: $what under ASan exited $rc after $((SECONDS - t0)) s (total $((SECONDS - start)) s)"
exit $rc
