# cython: language_level=3, boundscheck=False, wraparound=False, auto_pickle=False
"""The per-call fast path of the losses, in C.

A small call spends most of its time in Python checking that the arrays are
plain (exact ndarray, native dtype, C-contiguous, writable ``out``, equal
shapes, no overlap): ``x.flags`` alone builds a Python object. Here those are
reads of the array struct, and for the row-wise losses one pass over the class
labels that checks their range and counts the rows not ignored (the "mean"
denominator). Anything unusual returns None and the caller takes the general
path in ``_api``, which validates and raises the named errors; this module
never raises for bad input (only ``n_threads`` is validated, as there), it only
declines. It never writes an output before it has decided to take the call.
"""

cimport numpy as cnp
from libc.stdint cimport int64_t
from libc.string cimport memcmp

cnp.import_array()

from numpy import may_share_memory as _may_share_memory

from fastloss._threads import resolve_n_threads


cdef inline bint _plain(object a, cnp.PyArray_Descr* dt, int ndim, cnp.npy_intp* dims):
    # An exact ndarray of dtype dt, C-contiguous, of the given shape.
    if type(a) is not cnp.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    return (cnp.PyArray_DESCR(arr) == dt and cnp.PyArray_NDIM(arr) == ndim
            and cnp.PyArray_ISCARRAY_RO(arr)
            and memcmp(cnp.PyArray_DIMS(arr), dims, ndim * sizeof(cnp.npy_intp)) == 0)


cdef inline bint _owns(cnp.ndarray a):
    return cnp.PyArray_CHKFLAGS(a, cnp.NPY_ARRAY_OWNDATA) and cnp.PyArray_BASE(a) is NULL


cdef inline bint _may_overlap(cnp.ndarray out, cnp.ndarray a, bint own_out):
    # out may be a itself; two arrays that both own their memory cannot overlap.
    if out is a or (own_out and _owns(a)):
        return False
    return _may_share_memory(out, a)


cdef inline bint _plain_out(object out, cnp.PyArray_Descr* dt, int ndim, cnp.npy_intp* dims,
                            cnp.ndarray a, object b):
    # out is plain, writable, and either a (or b) itself or not overlapping them.
    if not _plain(out, dt, ndim, dims) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out):
        return False
    cdef bint own_out = _owns(<cnp.ndarray>out)
    if _may_overlap(<cnp.ndarray>out, a, own_out):
        return False
    return b is None or not _may_overlap(<cnp.ndarray>out, <cnp.ndarray>b, own_out)


def pointwise(dict kernels, object x, object target, object out, bint return_grad,
              object reduction, object n_threads, tuple args, object reductions,
              bint hessian=False, bint value=True):
    """The common call's result (``value``, or ``(value, grad)`` with ``out`` or
    ``return_grad``, or ``(value, grad, hess)`` with ``hessian`` or an ``out``
    pair), or None to take the general path.

    The common call: C-contiguous native float ndarrays of one dtype and shape,
    reduction "mean" or "sum" (and in ``reductions``, the loss's), n > 0,
    ``out`` None, or a buffer or a pair of buffers (grad, hess), each writable
    and either x (or target) itself or not overlapping them, the pair not
    overlapping each other. ``args`` are the kernel's trailing arguments (the
    loss parameters, already checked); ``value`` False skips the value's math
    where the Hessian is asked for (the value is then meaningless)."""
    if type(x) is not cnp.ndarray:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef cnp.PyArray_Descr* dt = cnp.PyArray_DESCR(xa)
    kernel = kernels.get(<object>dt)  # native float32/float64 only: other dtypes miss
    if kernel is None:
        return None
    cdef int ndim = cnp.PyArray_NDIM(xa)
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(xa)
    cdef cnp.npy_intp n = cnp.PyArray_SIZE(xa)
    if n == 0 or not cnp.PyArray_ISCARRAY_RO(xa):
        return None
    if target is not None and not _plain(target, dt, ndim, dims):
        return None
    cdef bint mean = reduction == "mean"
    if (not mean and reduction != "sum") or reduction not in reductions:
        return None
    cdef object h = None
    if type(out) is tuple:
        if len(<tuple>out) != 2:
            return None
        out, h = out
        if (not _plain_out(h, dt, ndim, dims, xa, target) or h is out
                or not _plain_out(out, dt, ndim, dims, xa, target)
                or _may_overlap(<cnp.ndarray>out, <cnp.ndarray>h, _owns(<cnp.ndarray>out))):
            return None
    elif hessian and out is not None:  # a single buffer: the general path names the error
        return None
    elif out is not None and not _plain_out(out, dt, ndim, dims, xa, target):
        return None
    nt = resolve_n_threads(n_threads)  # validates (and raises) like the general path
    if hessian and h is None:
        h = cnp.PyArray_EMPTY(ndim, dims, cnp.PyArray_TYPE(xa), 0)
    if out is None and (return_grad or h is not None):
        out = cnp.PyArray_EMPTY(ndim, dims, cnp.PyArray_TYPE(xa), 0)
    g = out
    hk = h
    if ndim != 1:  # the kernels take 1-D views
        x = cnp.PyArray_Ravel(xa, cnp.NPY_CORDER)
        if g is not None:
            g = cnp.PyArray_Ravel(<cnp.ndarray>out, cnp.NPY_CORDER)
        if h is not None:
            hk = cnp.PyArray_Ravel(<cnp.ndarray>h, cnp.NPY_CORDER)
        if target is not None:
            target = cnp.PyArray_Ravel(<cnp.ndarray>target, cnp.NPY_CORDER)
    cdef double scale = 1.0 / <double>n if mean else 1.0
    if h is not None:
        if target is None:
            total = kernel(x, g, None, None, 1, scale, nt, *args, hess=hk, value=value)
        else:
            total = kernel(x, target, g, None, None, 1, scale, nt, *args, hess=hk, value=value)
    elif target is None:
        total = kernel(x, g, None, None, 1, scale, nt, *args)
    else:
        total = kernel(x, target, g, None, None, 1, scale, nt, *args)
    result = total / <double>n if mean else total
    if h is not None:
        return (result, out, h)
    return result if out is None else (result, out)


cdef Py_ssize_t _scan_labels(const int64_t* t, Py_ssize_t n, int64_t n_classes,
                             bint has_ignore, int64_t ignore) noexcept nogil:
    """The number of rows not ignored, or -1 if a label is neither a class
    index in [0, n_classes) nor (with has_ignore) the ignored value."""
    cdef Py_ssize_t i, valid = 0
    cdef int64_t v
    cdef bint bad = False
    for i in range(n):
        v = t[i]
        if has_ignore and v == ignore:
            continue
        bad |= (v < 0) | (v >= n_classes)
        valid += 1
    return -1 if bad else valid


cdef class RowwisePlan:
    """The row-wise fast path of one loss: ``plan(a)`` answers the common call
    (``a``: the public function's arguments by name) or returns None.

    The common call: a C-contiguous native float (N, C) input, N, C > 0; a
    C-contiguous native int64 target of N class indices; no per-class vector
    and no sample_weight; every other parameter its default object, except
    ``ignore_index`` (any int) and float parameters given as floats in their
    bounds; reduction "mean", "sum" or "none"; ``out`` None or plain, writable
    and apart from the input and target, or (for a loss with a Hessian) a pair
    of such buffers apart from each other, as with ``return_hessian=True``. The
    class vectors are the loss's fills, built once per C and cached."""

    cdef dict kernels           # dtype -> the "class" kernel
    cdef tuple vector_names     # per-class vector parameters (must be None)
    cdef tuple fills            # their fills
    cdef tuple names            # scalar parameters the kernel takes, in order
    cdef tuple defaults         # their default objects
    cdef tuple checked          # and their checked values
    cdef tuple bounds           # (low, high, low_open, high_open) of float ones, else None
    cdef str input_name
    cdef bint has_ignore
    cdef object ignore_default
    cdef bint count_valid       # "mean" divides by the rows not ignored (else by N)
    cdef bint differentiable
    cdef bint has_hessian
    cdef dict vectors           # C -> tuple of read-only fill vectors

    def __init__(self, dict kernels, str input_name, tuple vector_names, tuple fills,
                 tuple names, tuple defaults, tuple checked, tuple bounds, bint has_ignore,
                 object ignore_default, bint count_valid, bint differentiable,
                 bint has_hessian=False):
        self.kernels = kernels
        self.input_name = input_name
        self.vector_names, self.fills = vector_names, fills
        self.names, self.defaults, self.checked, self.bounds = names, defaults, checked, bounds
        self.has_ignore, self.ignore_default = has_ignore, ignore_default
        self.count_valid = count_valid
        self.differentiable = differentiable
        self.has_hessian = has_hessian
        self.vectors = {}

    cdef tuple _fill_vectors(self, Py_ssize_t C):
        v = self.vectors.get(C)
        if v is None:
            arrays = []
            for fill in self.fills:
                arr = cnp.PyArray_EMPTY(1, <cnp.npy_intp*>&C, cnp.NPY_FLOAT64, 0)
                arr.fill(fill)
                arr.flags.writeable = False
                arrays.append(arr)
            v = tuple(arrays)
            if len(self.vectors) < 64:  # a loop uses a few class counts
                self.vectors[C] = v
        return <tuple>v

    cdef object _params(self, dict a):
        """The kernel's scalar arguments, or None to decline."""
        cdef Py_ssize_t i
        cdef double v, lo, hi
        values = None
        for i in range(len(self.names)):
            given = a[self.names[i]]
            if given is self.defaults[i]:
                continue
            b = self.bounds[i]
            if b is None or type(given) is not float:
                return None
            v = <double>given
            lo, hi = b[0], b[1]
            if not (v >= lo and v <= hi) or (b[2] and v == lo) or (b[3] and v == hi):
                return None  # NaN too
            if values is None:
                values = list(self.checked)
            values[i] = v
        return self.checked if values is None else tuple(values)

    def __call__(self, dict a):
        x = a[self.input_name]
        target = a["target"]
        if type(x) is not cnp.ndarray or type(target) is not cnp.ndarray:
            return None
        cdef cnp.ndarray xa = <cnp.ndarray>x
        cdef cnp.ndarray ta = <cnp.ndarray>target
        kernel = self.kernels.get(<object>cnp.PyArray_DESCR(xa))
        if (kernel is None or cnp.PyArray_NDIM(xa) != 2 or not cnp.PyArray_ISCARRAY_RO(xa)
                or cnp.PyArray_TYPE(ta) != cnp.NPY_INT64 or not cnp.PyArray_ISNOTSWAPPED(ta)
                or cnp.PyArray_NDIM(ta) != 1 or not cnp.PyArray_ISCARRAY_RO(ta)):
            return None
        cdef Py_ssize_t N = cnp.PyArray_DIM(xa, 0), C = cnp.PyArray_DIM(xa, 1)
        if N == 0 or C == 0 or cnp.PyArray_DIM(ta, 0) != N:
            return None
        for name in self.vector_names:
            if a[name] is not None:
                return None
        if a.get("sample_weight") is not None:
            return None
        params = self._params(a)
        if params is None:
            return None
        reduction = a["reduction"]
        if reduction != "mean" and reduction != "sum" and reduction != "none":
            return None
        want_acc = a.get("return_accuracy", False)
        if want_acc is not True and want_acc is not False:
            return None
        cdef bint return_grad = False
        cdef object want_h = False
        out = None
        h = None
        if self.differentiable:
            out = a["out"]
            if a["return_grad"] is not True and a["return_grad"] is not False:
                return None
            want_h = a.get("return_hessian", False)
            if want_h is not True and want_h is not False:
                return None
            if type(out) is tuple:  # (grad, hess)
                if not self.has_hessian or len(<tuple>out) != 2:
                    return None
                out, h = out
                # (a Hessian buffer that is the input: the general path copies the input)
                if (h is out or h is x or not _plain_out(h, cnp.PyArray_DESCR(xa), 2,
                                               cnp.PyArray_DIMS(xa), xa, target)
                        or not _plain_out(out, cnp.PyArray_DESCR(xa), 2,
                                          cnp.PyArray_DIMS(xa), xa, target)
                        or _may_overlap(<cnp.ndarray>out, <cnp.ndarray>h,
                                        _owns(<cnp.ndarray>out))):
                    return None
                want_h = True
            elif want_h is True and (out is not None or not self.has_hessian):
                return None  # the general path names the error
            elif out is not None and not _plain_out(out, cnp.PyArray_DESCR(xa), 2,
                                                    cnp.PyArray_DIMS(xa), xa, target):
                return None
            return_grad = out is not None or a["return_grad"] is True or want_h is True
        cdef int64_t ignore = -1
        if self.has_ignore:
            iv = a["ignore_index"]
            if iv is not self.ignore_default and type(iv) is not int:
                return None
            if not (-(2**63) <= iv < 2**63):
                return None
            ignore = iv
        cdef const int64_t* labels = <const int64_t*>cnp.PyArray_DATA(ta)
        cdef Py_ssize_t valid
        with nogil:
            valid = _scan_labels(labels, N, C, self.has_ignore, ignore)
        if valid < 0:
            return None  # the general path names the label
        nt = resolve_n_threads(a["n_threads"])  # validates (and raises) like the general path
        cdef double denom = <double>valid if self.count_valid else <double>N
        if want_h is True and h is None:
            h = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(xa), cnp.PyArray_TYPE(xa), 0)
        if return_grad and out is None:
            out = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(xa), cnp.PyArray_TYPE(xa), 0)
        loss_out = None
        if reduction == "none":
            loss_out = cnp.PyArray_ZEROS(1, <cnp.npy_intp*>&N, cnp.PyArray_TYPE(xa), 0)
        cdef bint mean = reduction == "mean"
        cdef double gscale = (1.0 / denom if denom else 0.0) if mean else 1.0
        if h is None:
            total, correct = kernel(x, target, ignore, out, loss_out, None, gscale, nt,
                                    *self._fill_vectors(C), *params)
        else:
            total, correct = kernel(x, target, ignore, out, loss_out, None, gscale, nt,
                                    *self._fill_vectors(C), *params, hess=h)
        if loss_out is not None:
            value = loss_out
        elif mean:
            value = total / denom if denom else float("nan")
        else:
            value = total
        if h is not None:
            return ((value, out, h, int(correct)) if want_acc else (value, out, h))
        if return_grad:
            return ((value, out, int(correct)) if want_acc else (value, out))
        return (value, int(correct)) if want_acc else value
