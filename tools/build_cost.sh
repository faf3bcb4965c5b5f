#!/usr/bin/env bash
# Build cost of two commits side by side, in one run: for each, a clean clone, then
# `pip wheel --no-deps .` (all SIMD levels, OpenMP) timed as a whole process tree
# (CPU seconds = user + sys of pip and every compiler it waited for), the wheel's
# size, the bytes of generated C, and the wheel's size after auditwheel repair
# where auditwheel is installed.
#
#   tools/build_cost.sh OLD_REV NEW_REV [OUT_DIR]
#
# Run it on a quiet machine (no other build or benchmark).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${3:-$(mktemp -d)}
py=${PYTHON:-python3}
mkdir -p "$out"
for rev in "$1" "$2"; do
    dir="$out/src-$rev"
    rm -rf "$dir"
    git clone -q "$root" "$dir"
    git -C "$dir" checkout -q "$rev"
    mkdir -p "$out/wheel-$rev"
    /usr/bin/time -f "%e %U %S" -o "$out/time-$rev" \
        "$py" -m pip wheel -q --no-deps -w "$out/wheel-$rev" "$dir" > "$out/log-$rev" 2>&1
    read -r wall user sys < "$out/time-$rev"
    whl=$(ls "$out/wheel-$rev"/*.whl)
    c_bytes=$(find "$dir" -name '*.c' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    repaired="-"
    if command -v auditwheel > /dev/null; then
        auditwheel repair -w "$out/repaired-$rev" "$whl" > /dev/null 2>&1 &&
            repaired=$(stat -c %s "$out/repaired-$rev"/*.whl)
    fi
    printf '%-10s wall %7.1f s  cpu %7.1f s (user %.1f + sys %.1f)  wheel %9d B  repaired %9s B  generated C %9d B\n' \
        "$rev" "$wall" "$(echo "$user + $sys" | bc)" "$user" "$sys" "$(stat -c %s "$whl")" "$repaired" "$c_bytes"
done
echo "wheels and logs in $out"
