"""Shadow training on a dask.distributed cluster, through joblib's Dask backend."""

import logging

import joblib
import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from wsmooth.attacks import MembershipInferenceAttack

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.parametrize("method", ["lira", "rmia"])
def test_dask_cluster_gives_the_sequential_scores(client, splits, method):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    X_pool, y_pool = np.vstack([Xm, Xn, Xp]), np.r_[ym, yn, yp]
    # max_features < 1: each tree depends on its seed
    target = DecisionTreeClassifier(max_features=0.5, min_samples_leaf=2)
    target.set_params(random_state=0).fit(Xm, ym)
    X, y = np.vstack([Xm, Xn]), np.r_[ym, yn]

    def scores():
        mia = MembershipInferenceAttack(
            target, method=method, n_shadow=4, random_state=0
        ).fit(X_pool, y_pool)
        return mia.decision_function(X, y), mia.shadow_models_

    sequential, seq_models = scores()  # n_jobs=None: sequential, in-process
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_backend("dask"):  # n_jobs: all the cluster's workers
            on_dask, dask_models = scores()
    assert np.array_equal(sequential, on_dask)
    assert np.array_equal(seq_models.keep_masks, dask_models.keep_masks)
    # the shadow models were trained (and queried) by the cluster's workers
    ran = {t["worker"] for t in stream.data}
    assert len(stream.data) >= 4 and ran <= set(client.scheduler_info()["workers"])
