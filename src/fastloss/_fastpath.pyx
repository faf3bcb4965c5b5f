# cython: language_level=3, boundscheck=False, wraparound=False
"""The per-call fast path of the pointwise losses, in C.

A 1-element call spends most of its time in Python checking that the arrays
are plain (exact ndarray, native float dtype, C-contiguous, writable ``out``,
equal shapes, no overlap): ``x.flags`` alone builds a Python object. Here
those are reads of the array struct. Anything unusual returns None and the
caller takes the general path in ``_api``, which validates and raises the named
errors; this module never raises for bad input, it only declines.
"""

cimport numpy as cnp
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


def pointwise(dict kernels, object x, object target, object out, object reduction,
              object n_threads, tuple args, object reductions):
    """(value, out) for the common call, or None to take the general path.

    The common call: C-contiguous native float ndarrays of one dtype and shape,
    ``out`` given and writable, reduction "mean" or "sum" (and in ``reductions``,
    the loss's), n > 0, ``out`` either
    x (or target) itself or not overlapping them. ``args`` are the kernel's
    trailing arguments (the loss parameters, already checked)."""
    if type(x) is not cnp.ndarray or type(out) is not cnp.ndarray:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef cnp.ndarray oa = <cnp.ndarray>out
    cdef cnp.PyArray_Descr* dt = cnp.PyArray_DESCR(xa)
    kernel = kernels.get(<object>dt)  # native float32/float64 only: other dtypes miss
    if kernel is None:
        return None
    cdef int ndim = cnp.PyArray_NDIM(xa)
    cdef cnp.npy_intp* dims = cnp.PyArray_DIMS(xa)
    cdef cnp.npy_intp n = cnp.PyArray_SIZE(xa)
    if (n == 0 or not cnp.PyArray_ISCARRAY_RO(xa) or not _plain(out, dt, ndim, dims)
            or not cnp.PyArray_ISWRITEABLE(oa)):
        return None
    if target is not None and not _plain(target, dt, ndim, dims):
        return None
    cdef bint mean = reduction == "mean"
    if (not mean and reduction != "sum") or reduction not in reductions:
        return None
    cdef bint own_out = _owns(oa)
    if _may_overlap(oa, xa, own_out):
        return None
    if target is not None and _may_overlap(oa, <cnp.ndarray>target, own_out):
        return None
    nt = resolve_n_threads(n_threads)  # validates (and raises) like the general path
    g = out
    if ndim != 1:  # the kernels take 1-D views
        x = cnp.PyArray_Ravel(xa, cnp.NPY_CORDER)
        g = cnp.PyArray_Ravel(oa, cnp.NPY_CORDER)
        if target is not None:
            target = cnp.PyArray_Ravel(<cnp.ndarray>target, cnp.NPY_CORDER)
    cdef double scale = 1.0 / <double>n if mean else 1.0
    if target is None:
        total = kernel(x, g, None, None, 1, scale, nt, *args)
    else:
        total = kernel(x, target, g, None, None, 1, scale, nt, *args)
    return (total / <double>n if mean else total, out)
