import dataclasses
import json

import numpy as np
import pytest

from wsmooth.metrics import (
    MembershipReport,
    balanced_accuracy_at_threshold,
    best_balanced_accuracy,
    membership_advantage,
    membership_auc,
    membership_report,
    membership_roc_curve,
    tpr_at_fpr,
)


def test_report():
    rng = np.random.default_rng(1)
    m, n = rng.normal(0.5, 1, 1000), rng.normal(0, 1, 1000)
    rep = membership_report(m, n, name="loss")
    assert isinstance(rep, MembershipReport)
    assert rep.auc == pytest.approx(membership_auc(m, n))
    assert rep.advantage == pytest.approx(membership_advantage(m, n))
    assert rep.balanced_accuracy == rep.best_balanced_accuracy
    assert rep.best_balanced_accuracy == pytest.approx(best_balanced_accuracy(m, n))
    assert rep.tpr_at_fpr == {
        0.001: tpr_at_fpr(m, n, 0.001),
        0.01: tpr_at_fpr(m, n, 0.01),
    }
    fpr, tpr, thr = membership_roc_curve(m, n)
    np.testing.assert_array_equal(rep.fpr, fpr)
    np.testing.assert_array_equal(rep.thresholds, thr)
    assert (rep.n_members, rep.n_nonmembers, rep.threshold) == (1000, 1000, None)

    d = rep.to_dict()
    json.dumps(d)
    assert d["tpr@0.1%fpr"] == rep.tpr_at_fpr[0.001]
    assert d["tpr@1%fpr"] == rep.tpr_at_fpr[0.01]
    assert d["name"] == "loss" and d["threshold"] is None
    assert not any(isinstance(v, np.ndarray) for v in d.values())

    s = str(rep)
    assert s == rep.summary() and "\n" not in s
    assert s.startswith("loss:") and "AUC" in s and "TPR@0.1%FPR" in s

    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.auc = 0.0
    with pytest.raises(ValueError):
        rep.fpr[0] = 1.0  # ROC arrays are read-only


def test_report_with_threshold():
    rng = np.random.default_rng(2)
    m, n = rng.normal(0.5, 1, 500), rng.normal(0, 1, 500)
    rep = membership_report(m, n, threshold=2.0, fpr_levels=(0.01, 0.1))
    assert rep.threshold == 2.0
    assert rep.balanced_accuracy == pytest.approx(
        balanced_accuracy_at_threshold(m, n, 2.0)
    )
    assert rep.balanced_accuracy <= rep.best_balanced_accuracy
    assert set(rep.to_dict()) >= {"tpr@1%fpr", "tpr@10%fpr", "threshold"}
    assert "threshold 2" in rep.summary()

