#!/usr/bin/env bash
# Compile the generated kernel C files with -Wconversion (which, for C, includes
# -Wsign-conversion) and fail on any warning: index narrowing (Py_ssize_t to int)
# would silently break arrays of more than 2**31 elements.
# Needs the generated .c files: run `python setup.py build_ext --inplace` first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python}
cc=${CC:-gcc}
inc=$("$py" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
status=0
for c in "$root"/src/fastloss/_*.c; do
    log=$(mktemp)
    "$cc" -fsyntax-only -O2 -fopenmp -Wconversion -I"$inc" -I"$root/src/fastloss" "$c" 2>"$log" || status=1
    n=$(grep -c "warning:" "$log" || true)
    echo "$(basename "$c"): $n -Wconversion warnings"
    if [[ "$n" != 0 ]]; then grep "warning:" "$log" | sed 's/.*warning: //' | sort | uniq -c; status=1; fi
    rm -f "$log"
done
exit $status
