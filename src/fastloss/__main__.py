"""The demo behind ``python -m fastloss``: check and time every registered loss.

The help text is DESCRIPTION and EPILOG, in plain text: argparse prints it as it is.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
import textwrap
import timeit
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import fastloss
from fastloss import _omp, reference
from fastloss._data import DEFAULT_CLASSES, differentiated, make_arrays
from fastloss._registry import LOSSES, REGISTRY, LossSpec

NAMES = [spec.name for spec in LOSSES]
NAMES_TEXT = textwrap.fill(", ".join(NAMES), width=79, initial_indent="  ", subsequent_indent="  ")

DESCRIPTION = """\
Run every registered loss (or those given with --loss) on generated data, in
float32 and float64: compare its value and gradient with fastloss.reference
(plain NumPy in float64) and time both.

Exit status: 0 when every result is within its tolerance, 1 otherwise,
2 for bad arguments."""

EPILOG = f"""\
examples:
  python -m fastloss                                   every loss, 10**6 elements
  python -m fastloss --loss cross_entropy -n 100000    one loss, smaller arrays
  python -m fastloss --loss mse_loss --plot speed.png  also time PyTorch and
                                                       scikit-learn, draw a chart

Point-wise losses run on arrays of n elements, row-wise ones on n // {DEFAULT_CLASSES} rows
of {DEFAULT_CLASSES} classes; the shape column shows what ran.

losses:
{NAMES_TEXT}"""

# Relative tolerance against the float64 reference, per dtype.
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}

# Plot series and their legend, in legend order; the peers are timed only with --plot.
LEGEND = {"fastloss": "fastloss: value + gradient",
          "NumPy": "NumPy (fastloss.reference, float64): value + gradient",
          "PyTorch": "PyTorch (torch.nn.functional): forward + backward",
          "scikit-learn": "scikit-learn (sklearn.metrics): value only"}

# scikit-learn's public functions for a loss (y_true, y_pred order).
SKLEARN_METRICS = {"mse_loss": "mean_squared_error", "l1_loss": "mean_absolute_error",
                   "quantile_loss": "mean_pinball_loss"}

# A peer whose value is further than this from the reference computes something
# else (another option or convention): timing it would compare unlike things.
PEER_TOLERANCE = 1e-3


@dataclass
class Result:
    name: str
    dtype: str
    shape: tuple
    t_fast: float
    t_ref: float
    err: float
    ref_value: float
    peers: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.err <= TOLERANCE[self.dtype]  # False for NaN


class Progress:
    """A status line on stderr: rewritten in place on a terminal; one line per
    step otherwise, since a log keeps carriage returns as garbage."""

    def __init__(self, total: int, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = total
        self.done = 0
        self.width = 0  # of the line on screen, which a shorter one must cover

    def step(self, text: str) -> None:
        self.done += 1
        line = f"[{self.done:>{len(str(self.total))}}/{self.total}] {text}"
        if self.tty:
            self._write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self._write(line + "\n")

    def note(self, text: str) -> None:
        self.clear()
        self._write(text + "\n")

    def clear(self) -> None:
        if self.width:
            self._write("\r" + " " * self.width + "\r")
            self.width = 0

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def max_rel_error(value, grad, ref_value, ref_grad) -> float:
    """Relative error of the value and normwise relative error of the gradient."""
    ev = abs(value - ref_value) / max(abs(ref_value), np.finfo(np.float64).tiny)
    if grad is None:  # a metric
        return float(ev)
    if isinstance(grad, tuple):  # one gradient per input: the worst
        return max([float(ev)] + [max_rel_error(ref_value, g, ref_value, r)
                                  for g, r in zip(grad, ref_grad)])
    scale = max(np.max(np.abs(ref_grad)), np.finfo(np.float64).tiny)
    eg = np.max(np.abs(grad.astype(np.float64) - ref_grad)) / scale
    return float(max(ev, eg))


def _best_time(fn, repeat: int) -> float:
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def measure(spec: LossSpec, dtype, n: int, repeat: int) -> Result:
    fn, ref = getattr(fastloss, spec.name), getattr(reference, spec.name)
    arrays = make_arrays(spec, (n,), dtype)
    grad: np.ndarray | tuple[np.ndarray, ...] | None = (
        np.empty_like(arrays[0]) if spec.differentiable else None)
    if spec.multi_input:  # a buffer per input
        grad = tuple(np.empty_like(arrays[spec.arrays.index(k)]) for k in spec.inputs)
    kw = {"out": grad} if spec.differentiable else {}
    value = fn(*arrays, **kw)
    value = value[0] if spec.differentiable else value
    ref_value, ref_grad = ref(*[a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays])
    return Result(spec.name, np.dtype(dtype).name, arrays[0].shape,
                  t_fast=_best_time(lambda: fn(*arrays, **kw), repeat),
                  t_ref=_best_time(lambda: ref(*arrays), repeat),
                  err=max_rel_error(value, grad, ref_value, ref_grad), ref_value=ref_value)


# ---- peers (--plot): each maker returns a zero-argument callable computing the
# loss value, or None where its library has no such loss.

def _torch_call(spec: LossSpec, arrays):
    import torch
    import torch.nn.functional as F

    fn = getattr(F, spec.torch or "", None)
    if fn is None:
        return None
    tensors = [torch.from_numpy(a) for a in arrays]
    inputs = differentiated(spec)

    def call():
        ts = [t.detach().requires_grad_() if d else t for t, d in zip(tensors, inputs)]
        value = fn(*ts, reduction=spec.default_reduction, **spec.defaults)
        value.backward()
        return value.item()

    return call


def _sklearn_call(spec: LossSpec, arrays):
    import sklearn.metrics  # type: ignore[import-untyped]  # (no stubs or py.typed)

    if spec.name not in SKLEARN_METRICS:
        return None
    fn = getattr(sklearn.metrics, SKLEARN_METRICS[spec.name])
    kw = {"alpha": spec.defaults["quantile"]} if "quantile" in spec.defaults else {}
    x, y = arrays
    return lambda: fn(y, x, **kw)


def available_peers() -> dict:
    peers = {}
    for label, module, maker in (("PyTorch", "torch", _torch_call),
                                 ("scikit-learn", "sklearn", _sklearn_call)):
        try:
            importlib.import_module(module)
        except ImportError:
            continue
        peers[label] = maker
    return peers


def time_peers(spec, result: Result, n: int, repeat: int, peers: dict, progress: Progress) -> None:
    arrays = make_arrays(spec, (n,), np.float32)  # the data fastloss ran on
    for label, maker in peers.items():
        try:
            with warnings.catch_warnings():  # e.g. PyTorch's advice on kl_div's "mean"
                warnings.simplefilter("ignore")
                call = maker(spec, arrays)
                if call is None:
                    continue
                value, ref = float(call()), result.ref_value
                if not abs(value - ref) <= PEER_TOLERANCE * max(abs(ref), 1e-300):
                    raise ValueError(f"value {value:.6g}, reference {ref:.6g}")
                result.peers[label] = _best_time(call, repeat)
        except Exception as exc:  # a peer's gap must not cost the whole run
            progress.note(f"note: {label} left out of {spec.name}: {exc}")


def run(specs: list[LossSpec], n: int, repeat: int, with_peers: bool) -> list[Result]:
    dtypes = (np.float32, np.float64)
    progress = Progress(len(specs) * (len(dtypes) + with_peers))
    results = []
    for spec in specs:
        for dtype in dtypes:
            progress.step(f"{spec.name} {np.dtype(dtype).name}")
            results.append(measure(spec, dtype, n, repeat))
    if with_peers:
        # Only now, not interleaved: a library's idle OpenMP workers spin for a while
        # after each call and take the cores from whichever library runs next.
        peers = available_peers()
        for result in results:
            if result.dtype == "float32":  # PyTorch's default dtype
                progress.step(f"{result.name} float32 vs {', '.join(peers) or 'no peers'}")
                time_peers(REGISTRY[result.name], result, n, repeat, peers, progress)
    progress.clear()
    return results


def print_table(results: list[Result]) -> None:
    w = max(len(r.name) for r in results) + 2
    ws = max(len(str(r.shape)) for r in results) + 2
    header = (f"{'loss':<{w}}{'dtype':<9}{'shape':>{ws}}{'fastloss ms':>13}{'NumPy ms':>11}"
              f"{'speed-up':>10}{'max rel err':>13}")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.name:<{w}}{r.dtype:<9}{str(r.shape):>{ws}}{r.t_fast * 1e3:>13.3f}"
              f"{r.t_ref * 1e3:>11.3f}{r.t_ref / r.t_fast:>9.1f}x{r.err:>13.1e}"
              f"{'' if r.ok else '  FAIL'}")
    print()
    print(f"threads: {_omp.get_max_threads()}, OpenMP: {_omp.openmp_version != 0}; "
          "value+grad with out= reused; NumPy = fastloss.reference (float64).")


def save_plot(results: list[Result], path: Path, repeat: int) -> list[str]:
    """Horizontal bars of the float32 timings, one group per loss; returns the series drawn."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = [r for r in results if r.dtype == "float32"]
    times = [{"fastloss": r.t_fast, "NumPy": r.t_ref, **r.peers} for r in rows]
    series = [s for s in LEGEND if any(s in t for t in times)]
    bar = 0.8 / len(series)
    fig = Figure(figsize=(9, 1.5 + 0.15 * len(rows) * (len(series) + 1)), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for k, label in enumerate(series):
        ys = [i + (k - (len(series) - 1) / 2) * bar for i, t in enumerate(times) if label in t]
        ax.barh(ys, [t[label] * 1e3 for t in times if label in t], height=bar, label=LEGEND[label])
    ax.set_yticks(range(len(rows)), [f"{r.name} {r.shape}" for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # registry order, top to bottom
    ax.set_xscale("log")
    ax.set_xlabel("time per call, ms (log scale; shorter is faster)")
    ax.set_title(f"float32 data, best of {repeat}; fastloss: {_omp.get_max_threads()} threads")
    fig.legend(loc="outside upper center", ncols=2, fontsize="small")
    fig.savefig(path)
    return series


# ---- arguments

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fastloss", description=DESCRIPTION,
                                     epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10**6, metavar="N",
                        help="elements per array (default: 1000000)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="timing repeats, the best is shown (default: 5)")
    parser.add_argument("--loss", action="append", metavar="NAME",
                        help="run only this loss (repeatable; names below)")
    parser.add_argument("--plot", type=Path, metavar="FILE",
                        help="also time PyTorch and scikit-learn where installed and save a "
                             "bar chart to FILE (needs matplotlib)")
    return parser


def select(parser, names: list[str] | None) -> list[LossSpec]:
    for name in names or ():
        if name not in NAMES:
            close = difflib.get_close_matches(name.lower(), NAMES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            parser.error(f"argument --loss: unknown loss {name!r}{hint}\n"
                         f"valid names:\n{NAMES_TEXT}")
    return [spec for spec in LOSSES if not names or spec.name in names]


def check_sizes(parser, n: int, repeat: int, specs: list[LossSpec]) -> None:
    if repeat < 1:
        parser.error(f"argument --repeat: must be at least 1, got {repeat}")
    if any(spec.kind == "rowwise" for spec in specs):
        if n < DEFAULT_CLASSES:
            parser.error(f"argument -n: must be at least {DEFAULT_CLASSES} (one row of "
                         f"{DEFAULT_CLASSES} classes for the row-wise losses), got {n}")
    elif n < 1:
        parser.error(f"argument -n: must be at least 1, got {n}")


def check_plot(parser, path: Path) -> None:
    """Fail before the long run, not after it."""
    try:
        from matplotlib.backend_bases import FigureCanvasBase
    except ImportError:
        parser.error("argument --plot: needs matplotlib: pip install matplotlib")
    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix.lstrip(".").lower() not in formats:
        parser.error(f"argument --plot: {path}: the name must end in one of "
                     f"{', '.join('.' + f for f in sorted(formats))}")
    if not path.resolve().parent.is_dir():
        parser.error(f"argument --plot: {path.parent} is not a directory")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    specs = select(parser, args.loss)
    check_sizes(parser, args.n, args.repeat, specs)
    if args.plot is not None:
        check_plot(parser, args.plot)
    results = run(specs, args.n, args.repeat, with_peers=args.plot is not None)
    print_table(results)
    ok = all(r.ok for r in results)
    print("all results match the reference" if ok else "SOME RESULTS DO NOT MATCH THE REFERENCE")
    if args.plot is not None:
        series = save_plot(results, args.plot, args.repeat)
        print(f"plot written to {args.plot} ({', '.join(series)})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
