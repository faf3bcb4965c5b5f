"""Small smoke run of every registered loss for valgrind memcheck (tools/valgrind_smoke.sh).

Every loss, float32 and float64, every reduction, with and without gradient,
sample weights and out=; odd layouts; one call large enough for the OpenMP path.
Kept small: under valgrind each call costs ~10**4 times more.
"""

import numpy as np

import fastloss
from fastloss import _data
from fastloss._registry import LOSSES

calls = 0
for spec in LOSSES:
    fn = getattr(fastloss, spec.name)
    diff = getattr(spec, "differentiable", True)
    required = getattr(_data, "required_kwargs", None)
    for dtype in (np.float32, np.float64):
        for n in (1, 37, 40_000):
            arrays = _data.make_arrays(spec, (n,), dtype, seed=n)[:1 + (spec.target != "none")]
            kw = required(spec, (n,)) if required else {}
            for red in spec.reductions:
                if n == 40_000 and red != spec.default_reduction:
                    continue
                sw = [None]
                if spec.sample_weight and arrays[0].ndim:
                    sw.append(np.linspace(0.1, 2.0, arrays[0].shape[0]))
                for w in sw:
                    extra = {} if w is None else {"sample_weight": w}
                    fn(*arrays, reduction=red, n_threads=2, **kw, **extra)
                    calls += 1
                    if diff:
                        out = np.empty_like(arrays[0])
                        fn(*arrays, reduction=red, out=out, n_threads=2, **kw, **extra)
                        fn(*[a[::-1] if a.ndim else a for a in arrays], reduction=red,
                           return_grad=True, **kw, **extra)
                        calls += 2
    # a rejected call must not touch memory either
    try:
        fn(np.zeros(3), np.zeros(4)) if spec.target != "none" else fn(np.zeros(3), out=np.zeros(4))
    except (TypeError, ValueError):
        pass
print(f"valgrind smoke: {calls} calls OK")
