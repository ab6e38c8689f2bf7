"""A sweep on a real dask.distributed cluster gives the local numbers."""

import numpy as np
import pytest

import flowsim

distributed = pytest.importorskip("distributed", reason="the `dask` extra (pip install '.[dask]')")


def test_dask_local_cluster_equals_the_local_run():
    sc = flowsim.load_scenario("kazakhstan-2022").replace(horizon_days=90)
    local = flowsim.ensemble(sc, 12, seed=21, chunk_size=12, progress=False)
    # in-process workers: a real scheduler and two workers, no network beyond this process
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = flowsim.ensemble(sc, 12, seed=21, chunk_size=4, executor=client.get_executor(), progress=False)
        assert len(client.scheduler_info()["workers"]) == 2
    for name in local.series:
        np.testing.assert_array_equal(local.series[name], remote.series[name])
    for name in local.summary_arrays:
        np.testing.assert_array_equal(local.summary_arrays[name], remote.summary_arrays[name])
    assert remote.stats["chunks"] == 3
