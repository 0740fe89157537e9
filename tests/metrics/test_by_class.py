import math
import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore:FPR level.*below 1/n_nonmembers")

from wsmooth.metrics import (
    ClassMembershipReport,
    membership_report,
    membership_report_by_class,
)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    lm = rng.choice(["a", "b", "c"], 300)
    ln = rng.choice(["a", "b", "c"], 300)
    # class "a" leaks most, "c" not at all
    shift = {"a": 2.0, "b": 0.5, "c": 0.0}
    sm = rng.normal([shift[c] for c in lm], 1.0)
    sn = rng.normal(0.0, 1.0, 300)
    return sm, sn, lm, ln


def test_each_class_equals_its_own_report():
    sm, sn, lm, ln = _data()
    levels = (0.02, 0.1)
    table = membership_report_by_class(
        sm, sn, lm, ln, threshold=0.3, fpr_levels=levels
    )
    assert isinstance(table, ClassMembershipReport)
    cols = table.to_dict()
    assert cols["class"] == ["a", "b", "c"]
    for i, c in enumerate(cols["class"]):
        ref = membership_report(
            sm[lm == c], sn[ln == c], threshold=0.3, fpr_levels=levels
        )
        assert cols["n_members"][i] == (lm == c).sum()
        assert cols["n_nonmembers"][i] == (ln == c).sum()
        for key, value in ref.to_dict().items():
            if key in cols:
                assert cols[key][i] == pytest.approx(value), (c, key)
        assert table.reports[c].auc == ref.auc
        assert cols["note"][i] == ""
    auc = dict(zip(cols["class"], cols["auc"], strict=True))
    assert auc["a"] > auc["b"] > auc["c"] - 0.1


def test_too_few_records_give_nan_and_a_note():
    sm, sn, lm, ln = _data()
    lm = lm.astype(object)
    lm[:1] = "rare"  # one member, no non-member
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # notes, not one warning per class
        table = membership_report_by_class(sm, sn, lm, ln, fpr_levels=(0.001, 0.01))
    cols = table.to_dict()
    i = cols["class"].index("rare")
    assert (cols["n_members"][i], cols["n_nonmembers"][i]) == (1, 0)
    assert math.isnan(cols["auc"][i]) and math.isnan(cols["tpr@1%fpr"][i])
    assert "too few records" in cols["note"][i]
    assert table.reports["rare"] is None
    # ~100 non-members per class: 0.1% FPR is below 1/n and is noted
    j = cols["class"].index("a")
    assert "0.001" in cols["note"][j] and not math.isnan(cols["auc"][j])
    assert "rare" in str(table)


def test_bad_input():
    sm, sn, lm, ln = _data()
    with pytest.raises(ValueError, match="member_labels"):
        membership_report_by_class(sm, sn, lm[:-1], ln)
    with pytest.raises(ValueError, match="fpr levels"):
        membership_report_by_class(sm, sn, lm, ln, fpr_levels=(0.0,))


def test_to_frame():
    pd = pytest.importorskip("pandas")
    sm, sn, lm, ln = _data()
    frame = membership_report_by_class(sm, sn, lm, ln).to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["class"]) == ["a", "b", "c"]
