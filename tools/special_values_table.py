"""Print docs/special_values.md: what every registered loss returns for huge,
denormal, infinite and NaN inputs (value and gradient), from actual runs.

    PYTHONPATH=src python tools/special_values_table.py > docs/special_values.md

tests/test_reliability.py::test_special_values_table_is_current fails when the
checked-in table differs from what the build computes now, so a kernel change
that alters edge-case behaviour shows up as a reviewed diff of this table.
"""

from __future__ import annotations

import warnings

import numpy as np

import fastloss
from fastloss import _data
from fastloss._registry import LOSSES

DTYPES = (np.float64, np.float32)


def specials(dtype):
    fi = np.finfo(dtype)
    huge, tiny = float(fi.max), float(np.nextafter(dtype(0), dtype(1)))
    return [("huge", huge), ("-huge", -huge), ("denormal", tiny), ("+inf", np.inf),
            ("-inf", -np.inf), ("nan", np.nan)]


def fmt(v) -> str:
    if isinstance(v, str):
        return v
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    s = [("nan" if np.isnan(e) else "inf" if e == np.inf else "-inf" if e == -np.inf
          else "0" if e == 0 else f"{e:.4g}") for e in a]
    return s[0] if len(s) == 1 else "[" + ", ".join(s) + "]"


def call(spec, args, kwargs):
    fn = getattr(fastloss, spec.name)
    diff = getattr(spec, "differentiable", True)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            res = fn(*args, reduction="none", **({"return_grad": True} if diff else {}), **kwargs)
    except (ValueError, TypeError) as e:
        return type(e).__name__, "-"
    if diff and isinstance(res[1], tuple):  # one gradient per input
        return fmt(res[0]), "; ".join(fmt(g) for g in res[1])
    if diff:
        return fmt(res[0]), fmt(res[1])
    return fmt(res), "-"


def is_class(spec):
    return any(k in spec.target for k in ("class", "label"))


def target_value(spec) -> float:
    """A valid scalar target for pointwise losses: 1 (valid for every target domain)."""
    return 1.0


# A loss of several inputs: the value every other array holds while one input takes
# the special value (per registry domain).
_NEUTRAL = {"normal": 0.5, "positive": 1.0, "sign": 1.0}


def multi_rows(spec, dtype):
    """Each input in turn takes each special value: one element, or one row of three."""
    rows_ = spec.mean_over == "rows"
    out = []
    for k in spec.inputs:
        for name, v in specials(dtype):
            args = []
            for a, domain in zip(spec.arrays, spec.domains):
                fill = _NEUTRAL[domain]
                if rows_:
                    arr = np.array([fill] if a == "target" else [[v if a == k else fill, 0.0, 0.25]])
                else:
                    arr = np.array([v if a == k else fill])
                args.append(arr.astype(dtype))
            where = f"[{name}, 0, 0.25]" if rows_ else name
            out.append((f"{k}={where}", *call(spec, args, {})))
    return out


def rows(spec, dtype):
    required = getattr(_data, "required_kwargs", None)
    out = []
    if spec.multi_input:
        return multi_rows(spec, dtype)
    if spec.kind == "pointwise":
        kw = required(spec, (1,)) if required else {}
        cases = [(name, v, None) for name, v in specials(dtype)]
        if spec.target != "none":
            cases += [(f"target {name}", None, v) for name, v in specials(dtype)
                      if name in ("huge", "+inf", "-inf", "nan")]
        for name, xv, yv in cases:
            x = np.array([0.0 if xv is None else xv], dtype)
            args = [x]
            if spec.target != "none":
                args.append(np.array([target_value(spec) if yv is None else yv], dtype))
            label = f"x={name}" if yv is None else f"x=0, {name}"
            if spec.target != "none" and yv is None:
                label += ", y=1"
            out.append((label, *call(spec, args, kw)))
        return out
    # rowwise: one row of 3 classes [v, 0, 0]
    kw = required(spec, (1, 3)) if required else {}
    for name, v in specials(dtype):
        x = np.array([[v, 0.0, 0.0]], dtype)
        if spec.target == "index_rows":  # class lists ended by -1
            for lists in ([0, -1, 0], [1, 2, -1]):
                out.append((f"row=[{name}, 0, 0], classes {lists[:lists.index(-1)]}",
                            *call(spec, [x, np.array([lists])], kw)))
        elif is_class(spec):
            for lab in (0, 1):
                out.append((f"row=[{name}, 0, 0], class {lab}", *call(spec, [x, np.array([lab])], kw)))
        elif spec.target != "none":
            y = np.array([[1.0, 0.0, 0.0]], dtype)
            out.append((f"row=[{name}, 0, 0], y=[1, 0, 0]", *call(spec, [x, y], kw)))
        else:
            out.append((f"row=[{name}, 0, 0]", *call(spec, [x], kw)))
    return out


def main() -> None:
    print("# Special values: what each loss returns for huge, denormal, infinite and NaN input")
    print()
    print("Generated by `tools/special_values_table.py` from actual runs of this build, with the")
    print("default parameters, `reduction=\"none\"` and `return_grad=True`; a test checks that it")
    print("is current. \"huge\" is the dtype's largest finite value, \"denormal\" its smallest")
    print("positive subnormal. Pointwise losses use the target 1 unless the row says otherwise;")
    print("row-wise losses one row of three classes; losses of several inputs put the special")
    print("value in each input in turn (the other arrays 0.5, or 1 for a variance or a label; rows")
    print("[v, 0, 0.25] against [0.5, 0, 0.25]), gradients listed per input (`;` between them).")
    print("`ValueError` means the input is rejected")
    print("(e.g. outside the loss's input range) before any kernel runs.")
    print()
    print("General rules (all losses): a NaN in an element (row) gives NaN in that element's")
    print("(row's) value and gradient only; reductions of a NaN are NaN. An infinite input")
    print("gives the mathematical limit where one exists (an infinite loss with a finite")
    print("gradient for the linear-tail losses), and NaN where the limit is undefined")
    print("(inf - inf). Denormal inputs are computed exactly as any other value (no flush to")
    print("zero). float32 results that exceed the float32 range are +-inf.")
    for spec in LOSSES:
        print()
        print(f"## {spec.name}")
        print()
        print("| case | float64 value | float64 gradient | float32 value | float32 gradient |")
        print("|---|---|---|---|---|")
        r64, r32 = rows(spec, np.float64), rows(spec, np.float32)
        for a, b in zip(r64, r32):
            print(f"| {a[0]} | {a[1]} | {a[2]} | {b[1]} | {b[2]} |")


if __name__ == "__main__":
    main()
