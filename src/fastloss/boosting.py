"""fastloss losses as custom objectives of XGBoost and LightGBM.

``xgboost_objective(name, **options)`` is the ``obj`` of ``xgboost.train``;
``lightgbm_objective(name, **options)`` the ``params["objective"]`` of
``lightgbm.train``. Each boosting round, one fused kernel call computes the
per-sample gradient and Hessian (its diagonal) of the loss summed over the
training set and weighted by the dataset's weights, into buffers allocated once
(``out=(grad, hess)`` of the losses, ``return_hessian=True``). The labels and
weights are read and converted once per dataset. Neither library is imported
here: the objectives only call the methods of the dataset they are given.
"""

from __future__ import annotations

import difflib
import weakref
from typing import Any

import numpy as np

from . import _api
from ._api import FUNCTIONS
from ._registry import REGISTRY

__all__ = ["SUPPORTED", "lightgbm_objective", "xgboost_objective"]

# The losses that can be objectives: their input is a raw score (a margin, a
# log-rate, a class score) with a useful second derivative.
_CANDIDATES = (
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "poisson_nll_loss",
    "log_cosh_loss",
    "quantile_loss",
    "binary_cross_entropy_with_logits",
    "sigmoid_focal_loss",
    "soft_margin_loss",
    "cross_entropy",
    "softmax_focal_loss",
    "cross_entropy_with_prior",
    "multilabel_soft_margin_loss",
)

#: Names of the losses that ``xgboost_objective`` and ``lightgbm_objective`` accept,
#: those whose input is a raw score (a margin, a log-rate, class scores) and whose
#: Hessian fastloss computes (``return_hessian=True``).
SUPPORTED: tuple[str, ...] = tuple(n for n in _CANDIDATES if REGISTRY[n].hessian)

# Why the other registered losses are not objectives (the error says so).
_NOT_SUPPORTED = {
    "binary_cross_entropy": "its input is a probability in [0, 1], while a booster's scores are "
                            "raw margins: use 'binary_cross_entropy_with_logits'",
    "kl_div": "it is linear in its input (the Hessian is zero)",
    "nll_loss": "its input is log-probabilities, in which it is linear (the Hessian is zero): "
                "use 'cross_entropy' on the raw class scores",
    "hinge_embedding_loss": "it is piecewise linear in its input (the Hessian is zero)",
    "multi_margin_loss": "it is a hinge, piecewise linear or quadratic in its input",
    "accuracy": "it is a metric, not differentiable",
}

# Losses whose exact second derivative vanishes on a set of positive measure (or
# everywhere): the libraries' own objectives for them (LightGBM's regression_l1,
# huber, quantile; XGBoost's reg:absoluteerror, reg:quantileerror) use the sample
# weight as the Hessian, and so does hessian="auto" here.
_UNIT_BY_DEFAULT = frozenset(("l1_loss", "smooth_l1_loss", "huber_loss", "quantile_loss"))

# Arguments of the losses that the objective sets itself.
_RESERVED = ("reduction", "sample_weight", "return_grad", "return_hessian", "out",
             "return_accuracy")

_HESSIANS = ("auto", "exact", "unit")


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be the name of a fastloss loss (a str), got "
                        f"{type(name).__name__}")
    if name in SUPPORTED:
        return name
    supported = ", ".join(SUPPORTED)
    if name in REGISTRY:
        if name in _CANDIDATES:
            reason = "fastloss has no Hessian of it yet (return_hessian=True)"
        else:
            reason = _NOT_SUPPORTED.get(name, "it is a penalty on weights, with no target")
        raise ValueError(f"{name!r} cannot be a boosting objective: {reason}. "
                         f"Supported: {supported}")
    close = difflib.get_close_matches(name, SUPPORTED, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"unknown loss {name!r}{hint} Supported: {supported}")


def _check_options(name: str, options: dict[str, Any], n_threads: object) -> None:
    """Unknown option names, then the values (one call of the loss on two rows)."""
    spec = REGISTRY[name]
    allowed = spec.param_names + spec.array_param_names
    for key in options:
        if key in _RESERVED:
            raise TypeError(f"{key!r} is set by the objective (reduction='sum', the dataset's "
                            f"weights as sample_weight, preallocated out=(grad, hess)); "
                            f"{name} options: {', '.join(allowed) or 'none'}")
        if key not in allowed:
            raise TypeError(f"{name} has no option {key!r}; its options: "
                            f"{', '.join(allowed) or 'none'}")
    given = [np.size(options[a]) for a in spec.array_param_names if options.get(a) is not None]
    k = max(given, default=1)
    x: np.ndarray
    t: np.ndarray
    if spec.kind == "rowwise":
        x = np.zeros((2, max(k, 2)))
        t = np.zeros(2, np.int64) if spec.target != "real" else np.zeros_like(x)
    else:
        x = np.zeros((2, k)) if k > 1 else np.zeros(2)
        t = np.zeros_like(x)
    FUNCTIONS[name](x, t, reduction="sum", return_grad=True, n_threads=n_threads, **options)


class _Dataset:
    """What an objective keeps of one training set: its labels and weights, read and
    converted once (targets per dtype and class count)."""

    __slots__ = ("ref", "keys", "label", "weight", "targets")

    def __init__(self, ref, keys, label, weight):
        self.ref = ref
        self.keys = keys
        self.label = label
        self.weight = weight
        self.targets: dict[Any, np.ndarray] = {}


class _Objective:
    """A custom objective: ``obj(preds, data) -> (grad, hess)``."""

    _library = ""
    _preds_name = "preds"
    _data_name = "data"
    _factory = ""

    def __init__(self, name: object, hessian: object, n_threads: int | None,
                 options: dict[str, Any]):
        self.loss = _check_name(name)
        if not isinstance(hessian, str) or hessian not in _HESSIANS:
            raise ValueError(f"hessian must be one of {_HESSIANS}, got {hessian!r}")
        self.hessian = hessian
        self.n_threads = n_threads
        self.options = dict(options)
        _check_options(self.loss, self.options, n_threads)
        spec = REGISTRY[self.loss]
        self._spec = spec
        self._fn = FUNCTIONS[self.loss]
        self._grad_hess = _api.gradient_hessian(self.loss)
        self._rowwise = spec.kind == "rowwise"
        self._unit = hessian == "unit" or (hessian == "auto" and self.loss in _UNIT_BY_DEFAULT)
        self._kw = dict(self.options, reduction="sum", n_threads=n_threads)
        self._kw_no_reduction = dict(self.options, n_threads=n_threads)
        self._ignore_index = self.options.get("ignore_index")
        self._buffers: dict[Any, Any] = {}
        self._datasets: dict[int, _Dataset] = {}

    def __repr__(self) -> str:
        args = [repr(self.loss), f"hessian={self.hessian!r}"]
        if self.n_threads is not None:
            args.append(f"n_threads={self.n_threads!r}")
        args += [f"{k}={v!r}" for k, v in self.options.items()]
        return f"{self._factory}({', '.join(args)})"

    # ---- the library's side: overridden -------------------------------------------
    def _read(self, data) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

    def _cache_keys(self, data) -> tuple:
        """Objects whose identity must not change for the cached labels to hold."""
        return ()

    def _export(self, g, h, w, layout, gs, hs):
        """(grad, hess) as the library takes them, from the kernel's gradient ``g``, its
        Hessian ``h`` (None: the unit Hessian, from the weights ``w``) and the factors
        ``gs``, ``hs`` of the two (``_scales``)."""
        raise NotImplementedError

    def _unflatten(self, x, n_rows):
        """The (N, C) view of a flattened (N * C,) multi-output array."""
        raise NotImplementedError

    # ---- shared ------------------------------------------------------------------
    def _dataset(self, data) -> _Dataset:
        d = self._datasets.get(id(data))
        keys = self._cache_keys(data)
        if (d is not None and d.ref() is data and len(keys) == len(d.keys)
                and all(a is b for a, b in zip(keys, d.keys))):
            return d
        label, weight = self._read(data)
        label = np.asarray(label)
        weight = None if weight is None or np.size(weight) == 0 else np.asarray(weight)
        if weight is not None:
            if weight.shape != (label.shape[0],):
                raise ValueError(f"{self._data_name}'s weight has shape {weight.shape}, but its "
                                 f"label has {label.shape[0]} rows")
            weight = np.ascontiguousarray(weight, dtype=np.float64)
        for key in [k for k, v in self._datasets.items() if v.ref() is None]:
            del self._datasets[key]  # datasets that are gone
        try:
            ref: Any = weakref.ref(data)
        except TypeError:  # not weak-referenceable: cached while it is the last one seen
            self._datasets.clear()
            ref = (lambda obj: (lambda: obj))(data)
        d = self._datasets[id(data)] = _Dataset(ref, keys, label, weight)
        return d

    def _scores(self, preds, label: np.ndarray):
        """(the array the kernel reads, the layout to return the gradients in)."""
        pname = self._preds_name
        if not isinstance(preds, np.ndarray):
            raise TypeError(f"{pname} must be a numpy.ndarray, got {type(preds).__name__}")
        n_rows = label.shape[0]
        x = preds
        layout = "same"
        if (x.ndim == 1 and n_rows and x.shape[0] != n_rows and x.shape[0] % n_rows == 0
                and (self._rowwise or label.ndim == 2)):
            # a flattened multi-output array (older library versions)
            x, layout = self._unflatten(x, n_rows), "flat"
        if x.ndim not in (1, 2) or x.shape[0] != n_rows:
            raise ValueError(f"{pname} has shape {preds.shape}, but {self._data_name} has "
                             f"{n_rows} rows")
        if self._rowwise and x.ndim != 2:
            raise ValueError(f"{pname} has shape {preds.shape}: {self.loss} needs (N, C) class "
                             f"scores; set num_class=C in the {self._library} parameters")
        return x, layout

    def _target(self, d: _Dataset, x: np.ndarray) -> np.ndarray:
        spec = self._spec
        label = d.label
        key = (x.dtype.str, x.shape)
        t = d.targets.get(key)
        if t is not None:
            return t
        dname = self._data_name
        class_target = spec.target == "class" or (
            spec.target == "class_or_prob" and not (label.ndim == 2 and label.shape == x.shape))
        if class_target:
            lab = label.reshape(-1) if label.ndim == 2 and label.shape[1] == 1 else label
            n_classes = x.shape[1]
            if lab.shape != (x.shape[0],):
                raise ValueError(f"{dname}'s label has shape {label.shape}: {self.loss} needs "
                                 f"one class index per row, shape ({x.shape[0]},)")
            if lab.dtype.kind in "iub":
                whole = np.ones(lab.shape, bool)
            elif lab.dtype.kind == "f":
                whole = lab == np.floor(lab)
            else:
                raise TypeError(f"{dname}'s label has dtype {lab.dtype}: {self.loss} needs "
                                f"class indices")
            ok = whole & (lab >= 0) & (lab < n_classes)
            if self._ignore_index is not None:
                ok |= lab == self._ignore_index
            if not ok.all():
                i = int(np.argmin(ok))
                raise ValueError(f"{dname}'s label[{i}] = {lab[i].item()!r}: {self.loss} needs "
                                 f"class indices, whole numbers in [0, {n_classes}) (num_class "
                                 f"= {n_classes})")
            t = lab.astype(np.int64)
        else:
            if label.size != x.size:
                hint = (": for class-index labels use 'cross_entropy'"
                        if x.ndim == 2 and label.shape == (x.shape[0],) else "")
                raise ValueError(f"{self._preds_name} has shape {x.shape}, but {dname}'s label "
                                 f"has shape {label.shape}{hint}")
            t = np.ascontiguousarray(label.reshape(x.shape), dtype=x.dtype)
        d.targets[key] = t
        return t

    def _kernel_buffers(self, x):
        key = (x.shape, x.dtype.str)
        b = self._buffers.get(key)
        if b is None:
            b = self._buffers[key] = (np.empty(x.shape, x.dtype), np.empty(x.shape, x.dtype))
        return b

    def _scales(self, x) -> tuple[float, float]:
        """Factors of the gradient and of the (exact) Hessian: the libraries'
        conventions for squared error, multi-label logistic and softmax."""
        if self.loss == "mse_loss":  # squared error is (p - y)^2 / 2 in both libraries
            return 0.5, 0.5
        if self.loss == "multilabel_soft_margin_loss":  # summed over the labels, not averaged
            return float(x.shape[1]), float(x.shape[1])
        if self.loss == "cross_entropy" and self.hessian == "auto":
            return 1.0, self._softmax_factor(x.shape[1])
        return 1.0, 1.0

    def _softmax_factor(self, n_classes: int) -> float:
        return 1.0

    def __call__(self, preds, data):
        d = self._dataset(data)
        x, layout = self._scores(preds, d.label)
        t = self._target(d, x)
        g, h = self._kernel_buffers(x)
        if self._unit:
            self._fn(x, t, sample_weight=d.weight, out=g, **self._kw)
            hess = None
        else:
            self._grad_hess(x, t, g, h, sample_weight=d.weight, **self._kw_no_reduction)
            hess = h
        gs, hs = self._scales(x)
        return self._export(g, hess, d.weight, layout, gs, hs)


def _unit_fill(h: np.ndarray, w: np.ndarray | None, class_major: bool = False) -> None:
    """The unit Hessian: each row's sample weight (1 without weights); ``h`` is (N,),
    (N, C), or (C, N) if ``class_major``."""
    if w is None:
        h.fill(1.0)
    elif h.ndim == 1:
        np.copyto(h, w, casting="same_kind")
    else:
        np.copyto(h, w[None, :] if class_major else w[:, None], casting="same_kind")


class _XGBoostObjective(_Objective):
    _library = "xgboost"
    _preds_name = "predt"
    _data_name = "dtrain"
    _factory = "xgboost_objective"

    def _read(self, data):
        label = np.asarray(data.get_label())
        if label.size == 0:
            raise ValueError("dtrain has no label: build it with xgboost.DMatrix(X, label=y)")
        return label, data.get_weight()  # empty without weights

    def _unflatten(self, x, n_rows):  # XGBoost < 2: row-major (N * C,)
        return x.reshape(n_rows, -1)

    def _softmax_factor(self, n_classes):  # multi:softprob: h = 2 p (1 - p) w
        return 2.0

    def _export(self, g, h, w, layout, gs, hs):
        if gs != 1.0:
            np.multiply(g, gs, out=g)
        _, hbuf = self._kernel_buffers(g)
        if h is None:
            _unit_fill(hbuf, w)
        elif hs != 1.0:
            np.multiply(h, hs, out=h)
        if layout == "flat":
            key = ("flat", g.shape, g.dtype.str)
            views = self._buffers.get(key)
            if views is None:
                views = self._buffers[key] = (g.reshape(-1), hbuf.reshape(-1))
            return views
        return g, hbuf


class _LightGBMObjective(_Objective):
    _library = "lightgbm"
    _preds_name = "preds"
    _data_name = "train_data"
    _factory = "lightgbm_objective"

    def _cache_keys(self, data):
        # lightgbm.Dataset keeps its label and weight arrays; set_label/set_weight replace them
        return (getattr(data, "label", None), getattr(data, "weight", None))

    def _read(self, data):
        fix = "build it with lightgbm.Dataset(X, label=y)"
        try:
            label = data.get_label()
        except Exception as e:  # LightGBM's plain Exception before the Dataset is constructed
            if getattr(data, "label", None) is None:
                raise ValueError(f"train_data has no label: {fix}") from e
            raise
        if label is None:
            raise ValueError(f"train_data has no label: {fix}")
        label = np.asarray(label)
        # LightGBM constructs a Dataset made without a label with one of zeros: an
        # all-zero label is that, or a training set with nothing to learn.
        if label.size and not np.any(label):
            raise ValueError(f"train_data has no label (its label is all zeros, as LightGBM "
                             f"makes it for a Dataset without one): {fix}")
        return label, data.get_weight()

    def _unflatten(self, x, n_rows):  # LightGBM < 4: class-major (C * N,)
        return x.reshape(-1, n_rows).T

    def _softmax_factor(self, n_classes):  # multiclass: h = C / (C - 1) p (1 - p) w (Friedman)
        if n_classes < 2:
            raise ValueError("cross_entropy needs at least 2 classes (num_class >= 2)")
        return n_classes / (n_classes - 1.0)

    def _export(self, g, h, w, layout, gs, hs):
        # LightGBM takes float32, class-major (its (N, C) arrays raveled in Fortran
        # order): write that layout once here, into buffers of our own, so that it
        # neither copies nor converts.
        key = ("lightgbm", g.shape)
        bufs = self._buffers.get(key)
        if bufs is None:
            if g.ndim == 1:
                g32, h32 = np.empty(g.shape, np.float32), np.empty(g.shape, np.float32)
                bufs = (g32, h32, g32, h32, g32, h32)
            else:  # (C, N) C-contiguous: its transpose is the (N, C) Fortran-ordered array
                g32 = np.empty(g.shape[::-1], np.float32)
                h32 = np.empty(g.shape[::-1], np.float32)
                bufs = (g32, h32, g32.T, h32.T, g32.reshape(-1), h32.reshape(-1))
            self._buffers[key] = bufs
        g32, h32, g_nc, h_nc, g_flat, h_flat = bufs
        src_g = g if g.ndim == 1 else g.T
        if gs != 1.0:
            np.multiply(src_g, gs, out=g32, casting="same_kind")
        else:
            np.copyto(g32, src_g, casting="same_kind")
        if h is None:
            _unit_fill(h32, w, class_major=True)
        else:
            src_h = h if h.ndim == 1 else h.T
            if hs != 1.0:
                np.multiply(src_h, hs, out=h32, casting="same_kind")
            else:
                np.copyto(h32, src_h, casting="same_kind")
        if layout == "flat":
            return g_flat, h_flat
        return g_nc, h_nc


# The Parameters section of both factories ({library}: the booster's name).
_DOC_PARAMETERS = """\
    Parameters
    ----------
    name : str
        The loss, one of ``fastloss.boosting.SUPPORTED`` (e.g. ``"sigmoid_focal_loss"``,
        ``"cross_entropy"``, ``"quantile_loss"``).
    hessian : {{"auto", "exact", "unit"}}, default "auto"
        The second-order statistic passed to {library} (see Notes).
    n_threads : int, optional
        Threads of the loss kernel (default: fastloss's, ``omp_get_max_threads()``).
        The booster runs its own OpenMP threads in between: on a machine with few
        cores, give both the same number.
    **options
        The loss's parameters, e.g. ``alpha=0.5, gamma=1.0`` for
        ``sigmoid_focal_loss``, ``weight=``, ``label_smoothing=`` for
        ``cross_entropy``; checked now (an unknown name is a TypeError, a bad value
        a ValueError), not in the first round.
"""

_DOC_CONVENTIONS = """\
    Conventions (the libraries' own objectives'):

    - ``mse_loss`` is squared error as both libraries define it, ``(p - y)^2 / 2``:
      gradient ``p - y``, Hessian 1 (half of fastloss's ``mse_loss``).
    - ``multilabel_soft_margin_loss`` is summed over the C labels (fastloss's
      value times C), as a multi-label ``binary:logistic``.
    - ``hessian="auto"`` (the default) is the unit Hessian (the sample weight) for
      ``l1_loss``, ``quantile_loss``, ``huber_loss`` and ``smooth_l1_loss``, whose
      exact second derivative is zero on a set of positive measure or everywhere
      (as LightGBM's ``regression_l1``, ``quantile``, ``huber`` and XGBoost's
      ``reg:absoluteerror``, ``reg:quantileerror``); for ``cross_entropy`` the
      exact Hessian times {factor}; the exact Hessian
      otherwise. ``"exact"`` and ``"unit"`` force one or the other.
    - The gradient and Hessian are those of the loss summed over the rows, each row
      weighted by the dataset's weight (``reduction="sum"``, ``sample_weight``).
"""


def xgboost_objective(name: str, *, hessian: str = "auto", n_threads: int | None = None,
                      **options: Any):
    """A fastloss loss as a custom objective of ``xgboost.train``.

{parameters}
    Returns
    -------
    callable
        ``obj(predt, dtrain) -> (grad, hess)`` for ``xgboost.train(params, dtrain,
        num_boost_round, obj=obj)``. ``grad`` and ``hess`` have ``predt``'s shape and
        dtype ((N,), or (N, C) with ``num_class=C`` or a multi-column label); the
        same two arrays are returned every round (allocated once per shape).

    Notes
    -----
    The labels are ``dtrain.get_label()`` (class indices as whole-number floats for
    the class-target losses, checked to lie in [0, num_class)), the weights
    ``dtrain.get_weight()``; both are read once per DMatrix.

{conventions}
    A booster trained with a custom objective has no link function: set
    ``"base_score": 0`` (XGBoost would otherwise start from an intercept estimated
    as for squared error), and predict with ``output_margin=True``, then apply the
    sigmoid / softmax / exp yourself. ``pos_weight`` of
    ``binary_cross_entropy_with_logits`` is XGBoost's ``scale_pos_weight``. The
    L1 and quantile objectives of XGBoost also refit each leaf to a quantile of the
    residuals, which a custom objective cannot do.

    Examples
    --------
    >>> from fastloss.boosting import xgboost_objective
    >>> obj = xgboost_objective("sigmoid_focal_loss", alpha=0.25, gamma=2.0)
    >>> obj
    xgboost_objective('sigmoid_focal_loss', hessian='auto', alpha=0.25, gamma=2.0)
    >>> xgboost_objective("huber")
    Traceback (most recent call last):
    ...
    ValueError: unknown loss 'huber'; did you mean 'huber_loss'? Supported: mse_loss, ...

    Training (needs ``xgboost``):

    >>> import xgboost as xgb  # doctest: +SKIP
    >>> dtrain = xgb.DMatrix(X, label=y)  # doctest: +SKIP
    >>> booster = xgb.train({"base_score": 0.0, "max_depth": 4}, dtrain, 100,
    ...                     obj=obj)  # doctest: +SKIP
    >>> margin = booster.predict(xgb.DMatrix(X_test), output_margin=True)  # doctest: +SKIP
    """
    return _XGBoostObjective(name, hessian, n_threads, options)


def lightgbm_objective(name: str, *, hessian: str = "auto", n_threads: int | None = None,
                       **options: Any):
    """A fastloss loss as a custom objective of ``lightgbm.train`` (LightGBM 4).

{parameters}
    Returns
    -------
    callable
        ``obj(preds, train_data) -> (grad, hess)`` for ``params["objective"] = obj``
        in ``lightgbm.train(params, train_data)``. For (N,) scores ``grad`` and
        ``hess`` are (N,) float32 arrays; for the (N, C) scores of ``num_class=C``,
        (N, C) float32 arrays in Fortran order, the layout LightGBM reads without a
        copy. The same arrays are returned every round (allocated once per shape).

    Notes
    -----
    The labels are ``train_data.get_label()`` (class indices as whole-number floats
    for the class-target losses, checked to lie in [0, num_class)), the weights
    ``train_data.get_weight()``; both are read once per Dataset (again after
    ``set_label`` / ``set_weight``). The scores are read where LightGBM keeps them
    (float64, class-major for (N, C)), never copied.

{conventions}
    LightGBM starts a custom objective from raw score 0 (its built-in objectives
    start from the label average, ``boost_from_average``), and its predictions are
    raw scores: apply the sigmoid / softmax / exp yourself. ``pos_weight`` of
    ``binary_cross_entropy_with_logits`` is LightGBM's ``scale_pos_weight``. The L1
    and quantile objectives of LightGBM also refit each leaf to a quantile of the
    residuals, which a custom objective cannot do.

    Examples
    --------
    >>> from fastloss.boosting import lightgbm_objective
    >>> obj = lightgbm_objective("cross_entropy", label_smoothing=0.1)
    >>> obj
    lightgbm_objective('cross_entropy', hessian='auto', label_smoothing=0.1)
    >>> lightgbm_objective("cross_entropy", smoothing=0.1)
    Traceback (most recent call last):
    ...
    TypeError: cross_entropy has no option 'smoothing'; its options: ...

    Training (needs ``lightgbm``):

    >>> import lightgbm as lgb  # doctest: +SKIP
    >>> params = {"objective": obj, "num_class": 3, "verbose": -1}  # doctest: +SKIP
    >>> booster = lgb.train(params, lgb.Dataset(X, label=y), 100)  # doctest: +SKIP
    >>> scores = booster.predict(X_test)  # raw (N, 3) class scores  # doctest: +SKIP
    """
    return _LightGBMObjective(name, hessian, n_threads, options)


def _fill_doc(fn, library: str, factor: str) -> None:
    fn.__doc__ = (fn.__doc__.replace("{parameters}", _DOC_PARAMETERS.format(library=library))
                  .replace("{conventions}", _DOC_CONVENTIONS.format(factor=factor)))


_fill_doc(xgboost_objective, "XGBoost", "2 (as ``multi:softprob``)")
_fill_doc(lightgbm_objective, "LightGBM", "C / (C - 1) (as ``multiclass``, after Friedman)")
