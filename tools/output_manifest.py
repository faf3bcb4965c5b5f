"""Hash every output bit of the installed fastloss, for "this change alters no result" checks.

For every SIMD level this CPU runs (each in a process of its own, FASTLOSS_SIMD capping
the level), every loss x dtype x parameter case (the registry's, plus each optional
per-class vector) x reduction x (no sample_weight, sample_weight) x call form (value
only, return_grad=True, out=) x n_threads 1 and 2, on fixed inputs big enough that
2 threads really run the parallel loop, and on shapes that take every loop form:
1-D and 2-D pointwise (per-element and per-row weights, per-column vectors), rowwise
with C <= 16 (8-row tiles), C > 16, class and probability targets, an ignored label.

    python tools/output_manifest.py > before.json     # installed old build
    python tools/output_manifest.py > after.json      # installed new build
    cmp before.json after.json

Run it from outside the source tree (or with the package installed), so that the
installed build is the one hashed. Each line of the output is "key sha256".
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

_PER_LEVEL = r"""
import hashlib, json, sys
import numpy as np
import fastloss
from fastloss._data import make_arrays, make_class_vectors, make_prob_target
from fastloss._registry import LOSSES

def vectors(spec, n):
    return make_class_vectors(spec, n, seed=11)

def shapes(spec):
    if spec.kind == "pointwise":
        return [(40_009,), (97, 413), (5,)]
    return [(4_001, 10), (331, 137), (3, 5)]

def cases(spec, x):
    out = spec.cases()
    n = x.shape[-1] if x.ndim else 1
    vec = vectors(spec, n)
    for a in spec.array_params:
        if not a.required:
            out.append({**spec.defaults, a.name: vec[a.name]})
    return out

def digest(parts):
    h = hashlib.sha256()
    for p in parts:
        a = np.asarray(p)
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()

res = {}
for spec in LOSSES:
    fn = getattr(fastloss, spec.name)
    for dtype in (np.float32, np.float64):
        for shape in shapes(spec):
            arrays = make_arrays(spec, shape, dtype, seed=5)
            x = arrays[0]
            targets = [("t", arrays)]
            if spec.target == "class_or_prob":
                probs = [x, make_prob_target(x.shape, dtype, seed=6)] + arrays[2:]
                targets.append(("prob", probs))
            if spec.target in ("class", "class_or_prob"):
                ign = list(arrays)
                ign[1] = arrays[1].copy()
                ign[1][::7] = 0
                targets.append(("ign0", ign))
            sw = np.random.default_rng(7).uniform(0.1, 2.0, x.shape[0])
            for tname, args in targets:
                for params in cases(spec, x):
                    if tname == "ign0" and "ignore_index" not in params:
                        continue
                    params = dict(params)
                    if tname == "ign0":
                        params["ignore_index"] = 0
                    for red in spec.reductions:
                        for weighted in ((False, True) if spec.sample_weight else (False,)):
                            kw = dict(params, reduction=red)
                            if weighted:
                                kw["sample_weight"] = sw
                            forms = ["value", "grad", "out"] if spec.differentiable else ["value"]
                            for nt in (1, 2):
                                for form in forms:
                                    k2 = dict(kw, n_threads=nt)
                                    if form == "grad":
                                        k2["return_grad"] = True
                                    elif form == "out":
                                        k2["out"] = np.empty_like(x)
                                    try:
                                        r = fn(*args, **k2)
                                    except (ValueError, TypeError) as e:
                                        r = (type(e).__name__,)
                                        r = [np.frombuffer(repr(r).encode(), np.uint8)]
                                    parts = r if isinstance(r, (tuple, list)) else (r,)
                                    key = (f"{spec.name}|{np.dtype(dtype).name}|{shape}|{tname}|"
                                           f"{sorted((k, v if np.isscalar(v) else 'vec') for k, v in params.items())}|"
                                           f"{red}|w={int(weighted)}|{form}|nt={nt}")
                                    res[key] = digest(parts)
print(json.dumps({"level": fastloss._dispatch.SIMD_LEVEL, "hashes": res}))
"""


def main() -> int:
    from fastloss import _dispatch

    lines = []
    for level in _dispatch.AVAILABLE_LEVELS:
        env = dict(os.environ, FASTLOSS_SIMD=level)
        out = subprocess.run([sys.executable, "-c", _PER_LEVEL], env=env, capture_output=True,
                             text=True, check=True).stdout
        got = json.loads(out)
        if got["level"] != level:
            raise SystemExit(f"asked for level {level}, the process ran {got['level']}")
        lines += [f"{level}|{k} {v}" for k, v in got["hashes"].items()]
    everything = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    print(f"# {len(lines)} results, levels {','.join(_dispatch.AVAILABLE_LEVELS)}, all: {everything}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
