"""Check that an installed fastloss really runs multi-threaded, and with which OpenMP.

Run from outside the source tree against an installed wheel:

    python tools/check_wheel_openmp.py --require-bundled

Checks that the extension was built with OpenMP, that a parallel region asking for
2 threads gets 2, that a kernel gives the same result with 1 and 2 threads, and
(with --require-bundled) that threadpoolctl sees an OpenMP runtime loaded from the
wheel's own files (fastloss.libs/ from auditwheel or delvewheel, fastloss/.dylibs/
from delocate), not a system copy. With --expect-serial it checks the opposite: a
build without OpenMP that says so.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--require-bundled", action="store_true",
                    help="the OpenMP runtime must be a file inside the installed wheel")
    ap.add_argument("--expect-serial", action="store_true",
                    help="the build must be one without OpenMP (FASTLOSS_NO_OPENMP=1)")
    args = ap.parse_args()

    import numpy as np
    import threadpoolctl

    import fastloss
    from fastloss import _omp

    pkg = Path(fastloss.__file__).resolve().parent
    print(f"fastloss {fastloss.__version__} imported from {pkg}")
    here = Path.cwd().resolve()
    if (here / "src" / "fastloss").is_dir() and str(pkg).startswith(str(here / "src")):
        print("FAIL: fastloss was imported from the source tree, not the installed wheel")
        return 1
    fastloss.show_config()

    x = np.linspace(-3, 3, 1 << 20)
    y = np.zeros_like(x)
    one = fastloss.huber_loss(x, y, return_grad=True, n_threads=1)
    two = fastloss.huber_loss(x, y, return_grad=True, n_threads=2)
    if one[0] != two[0] or not np.array_equal(one[1], two[1]):
        print("FAIL: results differ between 1 and 2 threads")
        return 1

    infos = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "openmp"]
    for i in infos:
        print(f"threadpoolctl: {i['internal_api']} {i.get('version')} "
              f"num_threads={i['num_threads']} {i['filepath']}")

    if args.expect_serial:
        ok = _omp.openmp_version == 0 and _omp.team_size(4) == 1
        print("OK: serial build, and it says so" if ok else "FAIL: expected a build without OpenMP")
        return 0 if ok else 1

    if _omp.openmp_version == 0:
        print("FAIL: built without OpenMP")
        return 1
    team = _omp.team_size(2)
    print(f"parallel region asking for 2 threads ran {team}")
    if team != 2:
        print("FAIL: the OpenMP runtime did not start 2 threads")
        return 1
    if args.require_bundled:
        roots = [pkg, pkg.parent / "fastloss.libs"]
        bundled = [i for i in infos
                   if any(str(Path(i["filepath"]).resolve()).startswith(str(r) + os.sep) for r in roots)]
        if not bundled:
            print(f"FAIL: no OpenMP runtime loaded from the wheel ({[str(r) for r in roots]})")
            return 1
        with threadpoolctl.threadpool_limits(1, user_api="openmp"):
            if _omp.get_max_threads() != 1:
                print("FAIL: threadpool_limits(1) did not reach the bundled runtime")
                return 1
        print(f"OK: bundled OpenMP runtime {bundled[0]['filepath']}, multi-threaded, "
              "controlled by threadpoolctl")
    else:
        print("OK: multi-threaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
