import numpy as np
import pytest

from wsmooth.attacks import MembershipInferenceAttack
from wsmooth.metrics import ClassMembershipReport, membership_report

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")


def test_evaluate_by_class(forest, splits):
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    mia = MembershipInferenceAttack(forest, method="mentr", random_state=0)
    mia.fit(Xp, yp)
    table = mia.evaluate(Xm, ym, Xn, yn, by_class=True, fpr_levels=(0.01,))
    assert isinstance(table, ClassMembershipReport)
    assert table.name == "mentr"
    sm, sn = mia.decision_function(Xm, ym), mia.decision_function(Xn, yn)
    assert sorted(table.reports) == sorted(np.unique(ym).tolist())
    for c in np.unique(ym):
        ref = membership_report(
            sm[ym == c], sn[yn == c], threshold=0.0, fpr_levels=(0.01,)
        )
        assert table.reports[c].auc == pytest.approx(ref.auc)
        assert table.reports[c].balanced_accuracy == pytest.approx(
            ref.balanced_accuracy
        )
        assert table.reports[c].tpr_at_fpr == pytest.approx(ref.tpr_at_fpr)
