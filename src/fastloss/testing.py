"""Check a gradient against central finite differences.

``check_grad`` works on any function that returns ``(value, grad)`` the way
fastloss losses do with ``return_grad=True``: ``grad`` has the input's shape
and is the gradient of ``value`` (of ``sum(value)`` when ``value`` is an array,
i.e. ``reduction="none"``: then ``grad[i]`` is ``d value[i] / d input[i]``).
Use it on your own losses before training with them.

Example: a custom loss written in NumPy, checked::

    import numpy as np
    from fastloss.testing import check_grad

    def cauchy_loss(x, y, c=1.0):
        d = (x - y) / c
        value = 0.5 * c**2 * np.log1p(d**2).mean()
        grad = c * d / (1 + d**2) / x.size
        return value, grad

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal(20), rng.standard_normal(20)
    check_grad(cauchy_loss, x, y, c=2.0)         # passes: returns the result
    check_grad(lambda x, y: (cauchy_loss(x, y)[0], 2 * cauchy_loss(x, y)[1]), x, y)
    # -> AssertionError: gradient of argument 0 differs from finite differences ...

Fastloss losses take the same route::

    import fastloss
    check_grad(fastloss.huber_loss, x, y, return_grad=True, delta=0.5)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["check_grad", "GradCheckResult"]


@dataclass
class GradCheckResult:
    """What ``check_grad`` compared: the analytic and finite-difference gradients.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> from fastloss.testing import check_grad
    >>> x, y = np.array([0.5, -1.0, 2.0]), np.zeros(3)
    >>> r = check_grad(fastloss.mse_loss, x, y, return_grad=True)
    >>> r.grad.shape == r.fd_grad.shape == x.shape
    True
    """

    grad: np.ndarray
    fd_grad: np.ndarray
    max_abs_err: float
    worst_index: tuple

    def __repr__(self) -> str:
        return (f"GradCheckResult(max_abs_err={self.max_abs_err:.3g}, "
                f"worst_index={self.worst_index}, size={self.grad.size})")


def _total_change(vp, vm) -> float:
    """value(x + h) - value(x - h), summed when the value is an array.

    The difference is taken element by element before summing so that
    unchanged elements cancel exactly and cost no precision.
    """
    vp = np.asarray(vp, dtype=np.float64)
    vm = np.asarray(vm, dtype=np.float64)
    return float(np.sum(vp - vm))


def check_grad(fn, *args, wrt=0, step=1e-6, rtol=1e-6, atol=1e-7, raise_on_failure=True,
               fn_kwargs=None, **kwargs) -> GradCheckResult:
    """Compare ``fn``'s analytic gradient with central finite differences.

    Parameters
    ----------
    fn : callable
        ``fn(*args, **kwargs)`` returns ``(value, grad)``; ``grad`` has the shape
        of ``args[wrt]`` and is the gradient of ``value`` (of its sum when the
        value is an array) with respect to ``args[wrt]``. Extra outputs after
        ``grad`` (e.g. a count of correct predictions) are ignored.
    *args
        Arguments of ``fn``. ``args[wrt]`` is converted to a float64 array (a
        finite-difference step of ``eps`` is meaningless in float32).
    wrt : int, default 0
        Index in ``args`` of the argument to differentiate with respect to.
    step : float, default 1e-6
        Half-width h of the central difference ``(f(x + h) - f(x - h)) / (2 h)``.
    rtol, atol : float
        Each element must satisfy ``|grad - fd| <= atol + rtol * |fd|``.
    raise_on_failure : bool, default True
        Raise ``AssertionError`` naming the worst element when the check fails;
        with False, return the result either way.
    fn_kwargs : dict, optional
        Keyword arguments of ``fn`` whose names clash with the checker's own
        (``wrt``, ``step``, ``rtol``, ``atol``, ``raise_on_failure``).
    **kwargs
        Keyword arguments of ``fn``.

    Returns
    -------
    GradCheckResult
        ``grad``, ``fd_grad``, ``max_abs_err`` and ``worst_index``.

    Notes
    -----
    Costs ``2 * args[wrt].size`` calls of ``fn``: use small inputs. Keep the
    inputs away from kinks (e.g. ``|x - y| == delta`` in the Huber loss), where
    the one-sided derivatives differ and no finite difference agrees.

    Examples
    --------
    >>> import numpy as np
    >>> import fastloss
    >>> from fastloss.testing import check_grad
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.standard_normal(20), rng.standard_normal(20)
    >>> result = check_grad(fastloss.huber_loss, x, y, return_grad=True, delta=0.5)
    >>> bool(result.max_abs_err < 1e-8)
    True

    A gradient that is off by a factor of 2 is caught:

    >>> def wrong_mse(x, y):
    ...     return np.mean((x - y) ** 2), (x - y) / x.size
    >>> check_grad(wrong_mse, x, y)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    AssertionError: gradient of argument 0 differs from finite differences at 20 of 20 elements; ...
    """
    arglist = list(args)
    kwargs = {**kwargs, **(fn_kwargs or {})}
    eps = float(step)
    if not 0 <= wrt < len(arglist):
        raise ValueError(f"wrt={wrt} is not the index of a positional argument (got {len(arglist)})")
    x = np.array(arglist[wrt], dtype=np.float64)  # a private copy we perturb
    if x.dtype.kind != "f":
        raise TypeError("the argument to differentiate must be real floating point")

    def call(xv):
        arglist[wrt] = xv
        out = fn(*arglist, **kwargs)
        if not isinstance(out, tuple) or len(out) < 2:
            raise TypeError("fn must return (value, grad), e.g. a fastloss loss with return_grad=True")
        return out

    _, grad = call(x.copy())[:2]
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != x.shape:
        raise ValueError(f"fn returned a gradient of shape {grad.shape}, expected {x.shape}")
    fd = np.empty_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        fd[i] = _total_change(call(xp)[0], call(xm)[0]) / (2 * eps)
    err = np.abs(grad - fd)
    bad = ~(err <= atol + rtol * np.abs(fd))  # NaN counts as bad
    worst = tuple(int(k) for k in np.unravel_index(np.nanargmax(np.where(np.isnan(err), np.inf, err)),
                                                   x.shape)) if x.size else ()
    result = GradCheckResult(grad, fd, float(np.max(err, initial=0.0)), worst)
    if raise_on_failure and bad.any():
        raise AssertionError(
            f"gradient of argument {wrt} differs from finite differences at {int(bad.sum())} of "
            f"{x.size} elements; worst at index {worst}: analytic {grad[worst]!r}, "
            f"finite difference {fd[worst]!r} (rtol={rtol}, atol={atol}, step={eps})"
        )
    return result
