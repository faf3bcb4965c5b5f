"""fastloss.dask: exact chunked values and chunked gradients, threaded and distributed."""

from __future__ import annotations

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import fastloss  # noqa: E402
import fastloss.dask as fd  # noqa: E402
from fastloss._data import data_arrays, make_class_vectors, required_kwargs  # noqa: E402
from fastloss._registry import LOSSES  # noqa: E402
from helpers import SINGLE_INPUT  # noqa: E402

# Two dask threads on a 2-core machine: one OpenMP thread per kernel call.
THREADED = dict(scheduler="threads", num_workers=2)
N_THREADS = 1


def _case(spec, n=203, seed=0, weighted=False, vectors=False):
    arrays = data_arrays(spec, (n, 3), np.float64, seed=seed)
    kw = dict(required_kwargs(spec, arrays[0].shape, seed))
    if vectors and spec.array_params:
        kw.update(make_class_vectors(spec, arrays[0].shape[-1], seed))
    if weighted and spec.sample_weight:
        kw["sample_weight"] = np.random.default_rng(seed + 1).uniform(0.1, 2.0, arrays[0].shape[0])
    return arrays, kw


def _chunked(arrays, kw, rows):
    x = da.from_array(arrays[0], chunks=(rows,) + arrays[0].shape[1:])
    others = [da.from_array(a, chunks=(rows,) + a.shape[1:]) for a in arrays[1:]]
    kw = dict(kw)
    if "sample_weight" in kw:
        kw["sample_weight"] = da.from_array(kw["sample_weight"], chunks=rows)
    return x, others, kw


def _rel(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


CASES = [pytest.param(s, r, w, id=f"{s.name}-{r}" + ("-weighted" if w else ""))
         for s in SINGLE_INPUT for r in s.reductions if r != "none"
         for w in ((False, True) if s.sample_weight else (False,))]


@pytest.mark.parametrize("rows", [17, 203])  # many small chunks, a few big ones
@pytest.mark.parametrize("spec,reduction,weighted", CASES)
def test_value_and_grad_match_in_memory(spec, reduction, weighted, rows):
    arrays, kw = _case(spec, weighted=weighted, vectors=True)
    fn = getattr(fastloss, spec.name)
    x, others, dkw = _chunked(arrays, kw, rows)
    if spec.differentiable:
        v_ref, g_ref = fn(*arrays, reduction=reduction, return_grad=True, **kw)
        v, g = fd.__dict__[spec.name](x, *others, reduction=reduction, return_grad=True,
                                      n_threads=N_THREADS, **dkw)
        assert g.chunks == x.chunks
        with dask.config.set(**THREADED):
            v, g = dask.compute(v, g)
        np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-15 * np.abs(g_ref).max())
        assert g.dtype == g_ref.dtype
    else:
        v_ref = fn(*arrays, reduction=reduction, **kw)
        with dask.config.set(**THREADED):
            v = fd.__dict__[spec.name](x, *others, reduction=reduction, **dkw).compute()
    assert _rel(float(v), v_ref) <= 1e-12, (float(v), v_ref)


@pytest.mark.parametrize("spec", [pytest.param(s, id=s.name) for s in SINGLE_INPUT])
def test_reduction_none(spec):
    arrays, kw = _case(spec, n=50)
    x, others, dkw = _chunked(arrays, kw, 16)
    ref = getattr(fastloss, spec.name)(*arrays, reduction="none", **kw)
    out = getattr(fd, spec.name)(x, *others, reduction="none", n_threads=N_THREADS, **dkw)
    with dask.config.set(**THREADED):
        got = out.compute()
    assert got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)  # elementwise: the very same numbers


def test_deterministic_for_any_tree_shape_and_chunk_order():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(100_000) * 10.0**rng.integers(-8, 8, 100_000)
    y = rng.standard_normal(100_000)
    xd, yd = da.from_array(x, chunks=999), da.from_array(y, chunks=999)
    values = set()
    for split_every in (2, 3, 8, 200):
        with dask.config.set(**THREADED):
            values.add(float(fd.mse_loss(xd, yd, split_every=split_every, n_threads=1).compute()))
    assert len(values) == 1
    # the chunk sums are combined exactly: equal to fsum of the per-chunk sums
    import math
    chunk_sums = [fastloss.mse_loss(x[i:i + 999], y[i:i + 999], reduction="sum")
                  for i in range(0, x.size, 999)]
    assert values.pop() == math.fsum(chunk_sums) / x.size


def test_gradient_keeps_2d_chunks_and_column_chunking_of_pointwise_losses():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((40, 30)), rng.standard_normal((40, 30))
    w = rng.uniform(0.5, 1.5, 40)
    xd = da.from_array(x, chunks=(13, 7))
    v, g = fd.huber_loss(xd, y, sample_weight=w, return_grad=True, n_threads=1)
    assert g.chunks == xd.chunks
    v_ref, g_ref = fastloss.huber_loss(x, y, sample_weight=w, return_grad=True)
    with dask.config.set(**THREADED):
        v, g = dask.compute(v, g)
    assert _rel(float(v), v_ref) <= 1e-12
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=0)


def test_cross_entropy_accuracy_and_class_weights():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((500, 7))
    t = rng.integers(0, 7, 500)
    t[::11] = -100  # ignored rows
    weight = rng.uniform(0.5, 2.0, 7)
    v_ref, g_ref, c_ref = fastloss.cross_entropy(z, t, weight=weight, return_grad=True,
                                                 return_accuracy=True)
    zd, td = da.from_array(z, chunks=(64, 3)), da.from_array(t, chunks=100)
    v, g, c = fd.cross_entropy(zd, td, weight=weight, return_grad=True, return_accuracy=True,
                               n_threads=1)
    with dask.config.set(**THREADED):
        v, g, c = dask.compute(v, g, c)
    assert _rel(float(v), v_ref) <= 1e-12
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-17)
    assert int(c) == c_ref


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       worker_dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_distributed_local_cluster(client):
    from fastloss._threads import resolve_n_threads

    # worker processes: one task and one OpenMP thread each (the nanny sets OMP_NUM_THREADS=1)
    assert set(client.run(lambda: resolve_n_threads(None)).values()) == {1}
    assert len(client.scheduler_info()["workers"]) == 2
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(200_000), rng.standard_normal(200_000)
    xd, yd = da.from_array(x, chunks=30_001), da.from_array(y, chunks=30_001)
    v, g = fd.log_cosh_loss(xd, yd, return_grad=True)
    v, g = client.compute([v, g], sync=True)
    v_ref, g_ref = fastloss.log_cosh_loss(x, y, return_grad=True)
    assert _rel(float(v), v_ref) <= 1e-12
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=0)
    z = rng.standard_normal((3000, 10))
    t = rng.integers(0, 10, 3000)
    zd, td = da.from_array(z, chunks=(700, 10)), da.from_array(t, chunks=700)
    v, c = client.compute(list(fd.cross_entropy(zd, td, return_accuracy=True)), sync=True)
    v_ref, c_ref = fastloss.cross_entropy(z, t, return_accuracy=True)
    assert _rel(float(v), v_ref) <= 1e-12 and int(c) == c_ref
