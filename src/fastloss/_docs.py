"""Numpydoc docstrings of the public losses, generated from their registry entries."""

from __future__ import annotations

from ._registry import LossSpec

_REDUCTION = {
    "mean": "the weighted mean sum_i w_i l_i / sum_i w_i over all elements (w_i = 1 "
            "without sample_weight, else the weight of the element's row, as np.average)",
    "sum": "sum_i w_i l_i",
    "none": "the array w_i l_i, of the input's shape",
}


def _param_lines(spec: LossSpec) -> list[str]:
    lines = []
    for p in spec.params:
        lines.append(f"{p.name} : {p.type.__name__}, default {p.default!r}")
        bounds = "" if p.type is bool else f" Must lie in {p.bounds_text()}."
        lines.append(f"    {p.doc}{bounds}")
    return lines


def docstring(spec: LossSpec) -> str:
    x = spec.input_name
    lines = [spec.summary, ""]
    lines += [f"Loss of element i:     {spec.formula}", f"Gradient of element i: {spec.gradient}", ""]
    lines += ["Parameters", "----------",
              f"{x} : array_like of float32 or float64",
              "    Any shape; the first axis is the row (sample) axis."]
    if spec.target != "none":
        lines += ["target : array_like", f"    Same shape as {x}; converted to {x}'s dtype."]
    if spec.family == "penalty":
        lines += _param_lines(spec)
    red = ", ".join(f'"{r}"' for r in spec.reductions)
    lines += [f'reduction : {{{red}}}, default "{spec.default_reduction}"']
    lines += [f'    "{r}": {_REDUCTION[r]}.' for r in spec.reductions]
    if spec.sample_weight:
        lines += ["sample_weight : array_like of shape (N,), optional",
                  f"    Non-negative weight w of each row of {x} (shape (N, ...))."]
    lines += [
        "return_grad : bool, default False",
        "    Also return the gradient of the value, computed in the same pass.",
        "out : ndarray, optional",
        f"    C-contiguous writeable array of {x}'s shape and dtype that receives the gradient "
        f"(may be {x} itself). Implies return_grad.",
        "n_threads : int, optional",
        "    OpenMP threads; None uses omp_get_max_threads() of the calling thread, so "
        "OMP_NUM_THREADS and threadpoolctl limits apply. Results do not depend on it; "
        "values above 256 count as 256.",
    ]
    if spec.family != "penalty":
        lines += _param_lines(spec)
    lines += ["", "Returns", "-------",
              "value : float or ndarray",
              '    A Python float, or an array of the input\'s dtype for reduction="none".',
              "grad : ndarray",
              f"    Only with return_grad=True or out: d value / d {x}, {x}'s shape and dtype; "
              'for reduction="none", d value[i] / d input[i].']
    notes = []
    if spec.notes:
        notes.append(spec.notes)
    if spec.torch:
        notes.append(f"Same semantics as torch.nn.functional.{spec.torch}.")
    if spec.peers:
        notes.append("Related: " + ", ".join(spec.peers) + ".")
    notes.append(f"Reference implementation: fastloss.reference.{spec.name}.")
    lines += ["", "Notes", "-----"] + notes
    return "\n".join(lines)
