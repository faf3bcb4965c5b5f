"""``linear_cross_entropy``: a linear layer and softmax cross-entropy, fused.

The language-model head ``cross_entropy(input @ weight.T + bias, target)`` without
its (N, V) logits: the rows go through in blocks. For each block, one BLAS
product writes the block's logits into a scratch buffer, the ``cross_entropy``
kernel turns them in place into their gradient (the sum's: ``gscale = 1``), and
two more products add the block's share of ``d_input`` and ``d_weight``, the
"mean" scaling folded into their ``alpha``. Beyond the inputs and the returned
gradients the call holds one (chunk_size, V) block and V float64 bias sums.

Validation, target conversion and the "mean" denominator are cross_entropy's own
(``_api``/``_validation``), so the options mean exactly what they mean there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _api, _blas
from ._registry import REGISTRY
from ._threads import resolve_n_threads
from ._validation import (
    as_class_target,
    as_class_vector,
    as_float_input,
    as_sample_weight,
    check_flag,
    check_out,
    check_param,
    check_reduction,
    pow2_normalized,
)

_CE = REGISTRY["cross_entropy"]
_PARAMS = {p.name: p for p in _CE.params}

# Panels of the products, run by fastloss's threads over a single-threaded BLAS
# (_blas.gemm): columns of the logits block and rows of d_weight (vocabulary
# entries); d_input's rows or columns (_d_input_split). Fixed by the shapes, so
# the results do not depend on the thread count. Each BLAS call packs both its
# operands: a panel of d_input's columns packs the whole (rows, V) block again,
# a panel of its rows the whole (V, H) weight, so d_input is cut along the
# dimension whose repacking costs less, into panels of 512. Measured, whole
# calls at (4096, 256, 32000) float32, 2-core AVX-512 Xeon, 1 / 2 threads, as
# multiples of three whole-matrix OpenBLAS products: 512-row blocks, 2048-entry
# vocabulary panels and 128-feature d_input panels 1.28x / 1.31x; 1024-row
# blocks, 4096-entry panels, d_input in 512-row panels 1.13x / 1.10x (1024
# features per panel, one for H = 256: 1.10x / 1.47x, one thread idle).
VOCAB_PANEL = 4096
D_INPUT_PANEL = 512

#: Default rows of the logits block: at least MIN_BLOCK_ROWS, more while the block
#: holds at most BLOCK_BYTES. Each block re-reads (and the BLAS repacks) the weight
#: and rewrites d_weight, so fewer rows cost time: at (2048, 1024, 128000) float32,
#: 2 threads, blocks of 128 rows took 1.48x the time of three whole-matrix products,
#: 512 rows 1.06x (bench/linear_ce.py's floor); see the panels above for 1024.
#: 1024 rows of V = 128000 float32 hold 524 MB, 1/8 of the (8192, V) logits.
MIN_BLOCK_ROWS = 1024
BLOCK_BYTES = 64 << 20


def _d_input_split(rows: int, features: int) -> tuple[str, int]:
    """How d_input's product of a block of ``rows`` is cut: along its rows ("m") or
    features ("n"), whichever repacks the smaller operand (the (features, V)
    weight or the (rows, V) block), into at least two panels (two threads' work)
    of at most D_INPUT_PANEL, equal within one. A function of the shape only,
    never of the thread count."""
    split, extent = ("m", rows) if features < rows else ("n", features)
    n_panels = max(2, -(-extent // D_INPUT_PANEL))
    return split, max(1, -(-extent // n_panels))


def _matrix(a: object, name: str) -> np.ndarray:
    arr = as_float_input(a, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {arr.shape}")
    return arr


def _weight(weight: object, x: np.ndarray) -> np.ndarray:
    if not isinstance(weight, np.ndarray):
        weight = np.asarray(weight)
    if weight.ndim != 2:
        raise ValueError(f"weight must be 2-D (V, H), got shape {weight.shape}")
    if weight.dtype != x.dtype:
        raise TypeError(f"weight has dtype {weight.dtype}, input {x.dtype}: both must be float32 "
                        f"or both float64 (e.g. weight.astype(np.{x.dtype}))")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight has shape {weight.shape}: its rows must have the input's "
                         f"{x.shape[1]} features (input has shape {x.shape})")
    if weight.shape[0] == 0:
        raise ValueError("weight has no rows: the class axis V must not be empty")
    # Copying a (V, H) matrix of 10**8 entries silently would cost what the call saves.
    if not (weight.flags.c_contiguous and weight.flags.aligned and weight.dtype.isnative):
        raise ValueError("weight must be a C-contiguous, aligned, native-byte-order array; "
                         "np.ascontiguousarray(weight) makes one (a copy)")
    return weight


def _bias(bias: object, x: np.ndarray, n_classes: int) -> np.ndarray | None:
    if bias is None:
        return None
    b = as_float_input(bias, "bias")
    if b.dtype != x.dtype:
        raise TypeError(f"bias has dtype {b.dtype}, input {x.dtype}: both must be float32 or "
                        "both float64")
    if b.shape != (n_classes,):
        raise ValueError(f"bias must have shape ({n_classes},) (one per row of weight), got "
                         f"shape {b.shape}")
    return b


def _out(out: object, likes: list[np.ndarray]) -> list[np.ndarray]:
    """The ``out=`` tuple: one gradient buffer per array of ``likes`` (input, weight[,
    bias]), overlapping none of them nor each other."""
    names = ("input", "weight", "bias")[:len(likes)]
    if not isinstance(out, tuple) or len(out) != len(likes):
        raise TypeError(f"out must be a tuple of {len(likes)} arrays (the gradients of "
                        f"{', '.join(names)}), got {type(out).__name__}"
                        + (f" of length {len(out)}" if isinstance(out, tuple) else ""))
    for i, (buf, like, name) in enumerate(zip(out, likes, names)):
        what = f"out[{i}] (d_{name})"
        check_out(buf, like, what, name)
        # The blocks read the inputs after earlier blocks wrote the gradients.
        for other, other_name in [*zip(likes, names), *zip(out[:i], names)]:
            if np.may_share_memory(buf, other):
                raise ValueError(f"{what} overlaps {other_name}: pass separate buffers")
    return list(out)


def _single_threaded_blas():
    """The BLAS libraries held at one thread (threadpoolctl), for the call's duration:
    fastloss's threads run the panels, and an idle BLAS thread pool spinning beside
    them would take their cores (measured: 20x slower at (256, 32, 500))."""
    global _BLAS_LIBS
    if _BLAS_LIBS is None:
        try:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
        except ImportError as e:
            raise ImportError("fastloss.linear_cross_entropy needs threadpoolctl (to run SciPy's "
                              "BLAS single-threaded under its own threads): python -m pip "
                              "install threadpoolctl") from e
        _BLAS_LIBS = ThreadpoolController().select(user_api="blas")
    return _BLAS_LIBS.limit(limits=1)


_BLAS_LIBS: Any = None


def linear_cross_entropy(input, weight, target, bias=None, *, class_weight=None,
                         ignore_index=-100, label_smoothing=0.0, reduction="mean",
                         sample_weight=None, return_grad=False, out=None, return_accuracy=False,
                         chunk_size=None, n_threads=None):
    r"""Softmax cross-entropy of a linear layer's output, without materialising it.

    The value of ``cross_entropy(input @ weight.T + bias, target, ...)`` and, in
    the same pass, its gradients with respect to ``input``, ``weight`` and
    ``bias``. The rows go through in blocks of ``chunk_size``: each block's
    logits z = x W^T + b live in one scratch buffer, where the cross_entropy
    kernel turns them into dl/dz; BLAS products then add the block's share of
    the gradients. Memory beyond the arguments and the gradients: one
    (chunk_size, V) block (by default 1024 rows, or 64 MiB), never the (N, V)
    logits.

    .. math::

        l_i = \sum_c q_{ic} w_c \left(\operatorname{logsumexp}(z_i) - z_{ic}\right), \quad
        z = x W^T + b

    .. math::

        \frac{\partial L}{\partial x} = G W, \quad \frac{\partial L}{\partial W} = G^T x,
        \quad \frac{\partial L}{\partial b} = \sum_i G_i, \quad
        G = \frac{\partial L}{\partial z}

    with q_i, w_c and G as in ``cross_entropy``.

    Parameters
    ----------
    input : array_like of float32 or float64, shape (N, H)
        The hidden states (features) of N rows.
    weight : ndarray, shape (V, H)
        The linear layer's weight, of the input's dtype; C-contiguous (it is not
        copied).
    target : array_like of int, shape (N,)
        Class indices in [0, V), or ``ignore_index``.
    bias : array_like, shape (V,), optional
        The linear layer's bias, of the input's dtype.
    class_weight : array_like, shape (V,), optional
        ``cross_entropy``'s ``weight``: the weight of each class.
    ignore_index : int, default -100
        Target value whose rows are skipped (no loss, zero gradient).
    label_smoothing : float, default 0.0
        As ``cross_entropy``; in [0, 1].
    reduction : {"mean", "sum", "none"}, default "mean"
        As ``cross_entropy`` ("mean": PyTorch's weighted mean). With "none",
        the gradients are those of the sum of the returned per-row losses.
    sample_weight : array_like of shape (N,), optional
        Non-negative weight of each row.
    return_grad : bool, default False
        Also return the gradients, as a tuple ``(d_input, d_weight)``, or
        ``(d_input, d_weight, d_bias)`` with a bias.
    out : tuple of ndarray, optional
        Buffers for that tuple (C-contiguous, the shapes and dtype of input,
        weight and bias; overwritten, not added to). Implies return_grad.
    return_accuracy : bool, default False
        Also return the number of rows (not ignored) whose first maximal logit
        is the target.
    chunk_size : int, optional
        Rows per block. Default: 1024, or more while a block holds at most 64 MiB
        (fewer rows re-read the weight more often and run slower).
        The results do not depend on the thread count; they may change in the
        last bits with chunk_size (the order of the float sums).
    n_threads : int, optional
        OpenMP threads, as in ``cross_entropy`` (None: OpenMP's default). They
        run the softmax kernel, the bias sums and the matrix products: each
        product is cut into fixed panels (2048 vocabulary entries, 128
        features), one call of SciPy's BLAS each (``scipy.linalg.cython_blas``;
        OpenBLAS in SciPy's wheels), with the BLAS itself held at one thread
        during the call (threadpoolctl). So the results are bit-identical for
        every thread count, whatever the BLAS does with threads of its own
        (OpenBLAS's own threading changes a product's last bits between 1 and 2
        threads: measured).

    Returns
    -------
    value : float or ndarray
        A Python float; for reduction="none", the (N,) row losses.
    grads : tuple of ndarray
        Only with return_grad=True or out: (d_input, d_weight[, d_bias]).
    n_correct : int
        Only with return_accuracy=True.

    Notes
    -----
    Equals ``torch.nn.functional.cross_entropy(torch.nn.functional.linear(input,
    weight, bias), target, weight=class_weight, ...)``; in PyTorch the (N, V)
    logits, their softmax and their gradient are each materialised. Needs
    SciPy (for its BLAS) and threadpoolctl. Reference:
    ``fastloss.reference.linear_cross_entropy``.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> rng = np.random.default_rng(0)
    >>> h = rng.standard_normal((6, 4))          # 6 tokens, 4 features
    >>> W = rng.standard_normal((10, 4))         # a vocabulary of 10
    >>> y = np.array([1, 3, 5, 7, 9, 0])
    >>> value, (d_h, d_W) = fastloss.linear_cross_entropy(h, W, y, return_grad=True)
    >>> value2, g = fastloss.cross_entropy(h @ W.T, y, return_grad=True)
    >>> bool(np.isclose(value, value2)), np.allclose(d_h, g @ W), np.allclose(d_W, g.T @ h)
    (True, True, True)
    """
    x = _matrix(input, "input")
    w = _weight(weight, x)
    n_rows, n_classes = x.shape[0], w.shape[0]
    b = _bias(bias, x, n_classes)
    reduction = check_reduction(reduction, _CE)
    ignore = check_param(_PARAMS["ignore_index"], ignore_index)
    smoothing = check_param(_PARAMS["label_smoothing"], label_smoothing)
    want_acc = check_flag("return_accuracy", return_accuracy)
    t = as_class_target(target, (n_rows, n_classes), n_classes, ignore)
    cw = None if class_weight is None else as_class_vector(class_weight, "class_weight", n_classes)
    sw = (None if sample_weight is None
          else as_sample_weight(sample_weight, x, pow2=reduction == "mean"))
    if chunk_size is None:
        chunk = max(1, min(n_rows, max(MIN_BLOCK_ROWS, BLOCK_BYTES // (n_classes * x.itemsize))))
    else:
        if isinstance(chunk_size, (bool, np.bool_)) or not isinstance(chunk_size, (int, np.integer)):
            raise TypeError(f"chunk_size must be None or a positive int, got "
                            f"{type(chunk_size).__name__}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be None or a positive int, got {chunk_size}")
        chunk = int(min(chunk_size, max(n_rows, 1)))
    nt = resolve_n_threads(n_threads)
    want_grad = out is not None or check_flag("return_grad", return_grad)
    likes = [x, w] + ([] if b is None else [b])
    if out is not None:
        grads = _out(out, likes)
    elif want_grad:
        grads = [np.empty_like(a) for a in likes]
    _blas.load()

    if reduction == "mean":
        if cw is not None:
            cw = pow2_normalized(cw)
        if sw is not None and n_rows and not sw.any():
            raise ValueError("sample_weight sums to zero: reduction='mean' is undefined")
    denom = _api._denominator(_CE, "class", t, sw, cw, ignore, n_rows)
    gscale = (1.0 / denom if denom else 0.0) if reduction == "mean" else 1.0
    vector = cw if cw is not None else np.ones(n_classes)
    kernel = _api.KERNELS["cross_entropy"]["class", x.dtype]
    loss_out = np.zeros(n_rows, x.dtype) if reduction == "none" else None
    block = np.empty((chunk, n_classes), x.dtype)
    bias_sums = np.zeros(n_classes) if want_grad and b is not None else None

    total, correct = 0.0, 0.0
    with _single_threaded_blas():
        for r0 in range(0, n_rows, chunk):
            r1 = min(r0 + chunk, n_rows)
            xb, z = x[r0:r1], block[:r1 - r0]
            if b is not None:
                z[...] = b
            _blas.gemm(z, xb, w, False, True, 1.0, 0.0 if b is None else 1.0,
                       "n", VOCAB_PANEL, nt)
            s, c = kernel(z, t[r0:r1], ignore, z if want_grad else None,
                          None if loss_out is None else loss_out[r0:r1],
                          None if sw is None else sw[r0:r1], 1.0, nt, vector, smoothing)
            total += s
            correct += c
            if want_grad:
                _blas.gemm(grads[0][r0:r1], z, w, False, False, gscale, 0.0,
                           *_d_input_split(r1 - r0, x.shape[1]), nt)
                _blas.gemm(grads[1], z, xb, True, False, gscale, 0.0 if r0 == 0 else 1.0,
                           "m", VOCAB_PANEL, nt)
                if bias_sums is not None:
                    _blas.add_column_sums(bias_sums, z, nt)
    if want_grad:
        if n_rows == 0:
            grads[1][...] = 0
        if bias_sums is not None:
            np.multiply(bias_sums, gscale, out=grads[2], casting="same_kind")

    return _api.rowwise_result(reduction, total, denom, loss_out,
                               tuple(grads) if want_grad else None,
                               int(correct) if want_acc else None)
