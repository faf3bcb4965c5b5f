#!/usr/bin/env bash
# valgrind memcheck of a smoke run of every loss (tools/valgrind/smoke.py) on the
# normal in-place build (python setup.py build_ext --inplace). Exit status 0 when
# memcheck reports no error; CPython/libgomp noise is in tools/valgrind/python.supp.
# Leaks are not checked (CPython keeps interned objects and arenas to the end).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python}
cd "$root"
start=$SECONDS
log=${VALGRIND_LOG:-/tmp/fastloss-valgrind.log}
set +e
PYTHONMALLOC=malloc PYTHONPATH="$root/src" valgrind --tool=memcheck --error-exitcode=99 \
    --leak-check=no --track-origins=no --num-callers=30 \
    --suppressions="$root/tools/valgrind/python.supp" \
    "$py" tools/valgrind/smoke.py >"$log" 2>&1
rc=$?
set -e
grep -E "ERROR SUMMARY|valgrind smoke|Invalid|uninitialised|definitely" "$log" || true
echo "valgrind_smoke: exit $rc after $((SECONDS - start)) s (full log: $log)"
exit "$rc"
