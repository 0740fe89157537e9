import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from wsmooth.utils._fingerprint import (
    IGNORED_PARAMS,
    code_digest,
    code_fingerprint,
    qualified_name,
    stable_params,
    stable_value,
)


def _helper(x):
    return x


def test_qualified_name_and_code_fingerprint():
    assert qualified_name(_helper) == f"{__name__}._helper"
    assert code_fingerprint(_helper) == f"{__name__}._helper:{code_digest(_helper)}"
    assert len(code_digest(LogisticRegression)) == 20
    assert code_digest(LogisticRegression) != code_digest(DecisionTreeClassifier)


def test_stable_value_describes_by_content():
    a = stable_value({"b": [1, 2.0, None], "a": np.arange(3)})
    b = stable_value({"a": np.arange(3), "b": (1, 2.0, None)})
    assert a == b
    assert stable_value({"a": np.arange(4)}) != stable_value({"a": np.arange(3)})
    est = stable_value(LogisticRegression(C=2.0))
    assert est[0] == code_fingerprint(LogisticRegression)
    assert est[1]["C"] == 2.0


def test_stable_params_leaves_out_ignored_params():
    params = stable_params(LogisticRegression(random_state=3, n_jobs=2, verbose=1))
    assert not IGNORED_PARAMS & set(params)
    assert stable_params(LogisticRegression(random_state=1)) == stable_params(
        LogisticRegression(random_state=2)
    )
    assert stable_params(LogisticRegression(C=1.0)) != stable_params(
        LogisticRegression(C=2.0)
    )
