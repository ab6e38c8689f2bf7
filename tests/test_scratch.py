"""Issue 13, per-call overhead: scratch memory of the ensemble's chunks reused across chunks and calls.

Reused memory must give the same bytes as fresh memory (every value written before it is read), arrays in
use are never shared (threads included), and nothing a caller keeps is a view of scratch memory.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import flowsim
from flowsim.scenario.sampling import parse_vary, scale_sample, unit_sample
from flowsim.solve import scratch
from flowsim.solve.scratch import ScratchPool

KEEP = ("N", "net")
SCALARS = ("final:fiscal", "peak:residents", "mean:inflow")     # of series that are scratch, not kept


@pytest.fixture(scope="module")
def short():
    return flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=120)


def _arrays(ens) -> dict:
    return {**{f"series {k}": v for k, v in ens.series.items()},
            **{f"summary {k}": v for k, v in ens.summary_arrays.items()},
            **{f"scalar {k}": v for k, v in ens.scalars.items()}}


def _assert_same_bytes(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype and a[name].shape == b[name].shape, name
        assert a[name].tobytes() == b[name].tobytes(), name


# ------------------------------------------------------------------------------------------- the pool
def test_pool_hands_out_distinct_arrays_and_reuses_them():
    pool = ScratchPool(keep_bytes=10 ** 6)
    with pool.arrays(4, (3, 5), 3) as arrays:
        assert [a.shape for a in arrays] == [(4, 3, 5)] * 3
        assert all(a.flags.c_contiguous and a.dtype == float for a in arrays)
        assert not any(np.shares_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:])
        first = {a.__array_interface__["data"][0] for a in arrays}
        with pool.arrays(4, (3, 5), 2) as inner:                   # while those are in use: new memory
            assert not any(np.shares_memory(a, b) for a in inner for b in arrays)
    assert pool.idle_bytes == 5 * 4 * 3 * 5 * 8
    with pool.arrays(2, (3, 5), 3) as again:                       # fewer rows: the first rows of pooled arrays
        assert [a.shape for a in again] == [(2, 3, 5)] * 3
        assert {a.__array_interface__["data"][0] for a in again} <= first | {
            a.__array_interface__["data"][0] for a in inner}
        assert all(a.flags.c_contiguous for a in again)
    with pool.arrays(2, (3, 6), 1) as (other,):                     # another trailing shape: its own array
        assert other.shape == (2, 3, 6)


def test_pool_keeps_at_most_its_budget_and_clears():
    pool = ScratchPool(keep_bytes=1000)
    with pool.arrays(10, (10,), 3):                                  # 3 x 800 bytes
        pass
    assert pool.idle_bytes == 800                                    # one fits the budget, the oldest went
    pool.clear()
    assert pool.idle_bytes == 0
    with pytest.raises(ValueError, match="keep_bytes.*whole number of bytes >= 0; got -1"):
        ScratchPool(keep_bytes=-1)
    with pytest.raises(ValueError, match="keep_bytes"):
        ScratchPool(keep_bytes=1.5)


def test_pool_gives_memory_back_under_pressure(monkeypatch):
    pool = ScratchPool(keep_bytes=10 ** 9)
    monkeypatch.setattr(scratch, "_SMALL", 0)
    monkeypatch.setattr(scratch, "available_bytes", lambda: 8 * 1000)   # an eighth: 1000 bytes may stay
    with pool.arrays(100, (1,), 2):                                      # 2 x 800 bytes
        pass
    assert pool.idle_bytes == 800


# ------------------------------------------------------------------------------------------- ensembles
def test_reused_scratch_gives_the_bytes_of_fresh_memory(short, monkeypatch):
    """Chunks of 16 over 50 members reuse scratch arrays; garbage left in the pool changes nothing."""
    pool = ScratchPool()
    monkeypatch.setattr("flowsim.simulate.SCRATCH", pool)
    ens = flowsim.ensemble(short, 50, seed=4, chunk_size=16, keep=KEEP, scalars=SCALARS, progress=False)
    fresh = _arrays(ens)
    assert pool.idle_bytes >= 4 * 16 * len(short.hosts) * 121 * 8   # inflow, value_added, fiscal, residents
    H, D = len(short.hosts), short.horizon_days + 1
    with pool.arrays(16, (H, D), 8) as left:                          # poison what the next call reuses
        for a in left:
            a.fill(np.nan)
    again = flowsim.ensemble(short, 50, seed=4, chunk_size=16, keep=KEEP, scalars=SCALARS, progress=False)
    _assert_same_bytes(fresh, _arrays(again))
    pool.clear()
    cold = flowsim.ensemble(short, 50, seed=4, chunk_size=16, keep=KEEP, scalars=SCALARS, progress=False)
    _assert_same_bytes(fresh, _arrays(cold))
    assert np.isfinite(again.scalars["final:fiscal"]).all()
    # what the caller keeps is its own memory, not the pool's
    with pool.arrays(16, (H, D), 8) as pooled:
        for kept in _arrays(again).values():
            assert not any(np.shares_memory(kept, p) for p in pooled)


def test_a_chunk_returns_nothing_that_lives_in_scratch_memory(short, monkeypatch):
    """Scalars of scratch series (``final:`` is a view of the last day) are copied out before the arrays go back."""
    from flowsim.simulate import ChunkTask, MemberInputs, _series_plan, solve_chunk
    from flowsim.solve.ensemble import EnsembleSolver

    pool = ScratchPool()
    monkeypatch.setattr("flowsim.simulate.SCRATCH", pool)
    dims = parse_vary(short.params, ["tau_S", "f0"], initial=short.initial)
    inputs = MemberInputs.from_values(short, dims, scale_sample(dims, unit_sample(6, len(dims), "lhs", 1)))
    series, keep, parsed = _series_plan(("N",), SCALARS, inputs.k_values)
    task = ChunkTask(inputs=inputs, members=np.arange(6), k=inputs.k_layout, solver="ensemble",
                     options=EnsembleSolver().options(), series=series, keep=keep, scalars=parsed)
    res = solve_chunk(task)
    H, D = len(short.hosts), short.horizon_days + 1
    with pool.arrays(6, (H, D), len(series)) as pooled:
        assert pool.idle_bytes == 0 and len(pooled) == len(series)     # the chunk gave back its scratch arrays
        returned = [*res.series.values(), *res.summary.values(), *res.scalars.values()]
        assert not any(np.shares_memory(a, p) for a in returned for p in pooled)
    assert res.scalars["final:fiscal"].shape == (6, H)


def test_threads_share_the_pool_without_sharing_arrays(short):
    """Chunks solved at once by threads each get their own scratch arrays: the numbers of one thread."""
    alone = flowsim.ensemble(short, 40, seed=9, chunk_size=8, scalars=SCALARS, progress=False)
    with ThreadPoolExecutor(4) as pool:
        threaded = flowsim.ensemble(short, 40, seed=9, chunk_size=8, scalars=SCALARS, progress=False,
                                    executor=pool)
    _assert_same_bytes(_arrays(alone), _arrays(threaded))


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_starts_with_an_empty_pool_of_its_own():
    import os

    with scratch.SCRATCH.arrays(3, (2, 4), 1):
        pass
    assert scratch.SCRATCH.idle_bytes >= 3 * 2 * 4 * 8
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                                         # the child: report and leave at once
        os.close(read)
        os.write(write, str(scratch.SCRATCH.idle_bytes).encode())
        os._exit(0)
    os.close(write)
    got = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    assert got == b"0"
    assert scratch.SCRATCH.idle_bytes >= 3 * 2 * 4 * 8                 # the parent keeps its own


def test_first_touch_never_writes_a_claimed_chunk():
    """The rows of a claimed chunk keep what the solver wrote; the first chunk is never touched; close() stops it."""
    from flowsim.solve.scratch import FirstTouch

    rows, chunk = 4000, 20
    arrays = [np.full((rows, 8, 64), 7.0) for _ in range(2)]
    bounds = [(a, a + chunk) for a in range(0, rows, chunk)]
    touch = FirstTouch(arrays, bounds)
    written = []
    for i in range(0, len(bounds), 3):                     # the solver claims every third chunk, as it goes
        touch.claim(i)
        a, b = bounds[i]
        for arr in arrays:
            arr[a:b] = -1.0 - i
        written.append(i)
    touch.close()
    after = [arr.copy() for arr in arrays]
    for i in written:
        a, b = bounds[i]
        for arr in arrays:
            assert np.all(arr[a:b] == -1.0 - i), i
    for i, (a, b) in enumerate(bounds):
        if i not in written:
            for arr in arrays:
                assert np.all(arr[a:b] == 0.0) or np.all(arr[a:b] == 7.0), i
    for arr, before in zip(arrays, after):
        np.testing.assert_array_equal(arr, before)         # nothing written after close()


def test_an_ensemble_in_chunks_with_first_touch_equals_one_chunk():
    import flowsim

    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=90)
    one = flowsim.ensemble(sc, 40, seed=3, progress=False, keep=["N", "net", "U"])
    many = flowsim.ensemble(sc, 40, seed=3, progress=False, keep=["N", "net", "U"], chunk_size=7)
    for name in ("N", "net", "U"):
        np.testing.assert_array_equal(many.series[name], one.series[name])
