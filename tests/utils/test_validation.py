import numpy as np
import pytest

from wsmooth.utils import check_proba


def test_check_proba_accepts_a_distribution_and_returns_float64():
    proba = np.array([[0.2, 0.8], [1.0, 0.0]], dtype=np.float32)
    out = check_proba(proba, n_records=2, n_classes=2)
    assert out.dtype == np.float64 and np.array_equal(out, proba)


@pytest.mark.parametrize(
    "rows, problem",
    [
        ([[np.nan, 0.5], [0.5, 0.5]], "1 with NaN or infinite values"),
        ([[np.inf, 0.0], [np.nan, np.nan]], "2 with NaN or infinite values"),
        ([[-0.1, 1.1], [0.5, 0.5]], "1 with negative values"),
        ([[0.3, 0.3], [0.5, 0.5]], "1 not summing to 1"),
    ],
)
def test_check_proba_names_model_and_row_count(rows, problem):
    with pytest.raises(ValueError, match=f"shadow model 3 .* {problem} of 2 rows"):
        check_proba(np.array(rows), model="shadow model 3")


def test_check_proba_checks_shape():
    with pytest.raises(ValueError, match="shape"):
        check_proba(np.ones(3))
    with pytest.raises(ValueError, match="2 rows for 3 records"):
        check_proba(np.full((2, 2), 0.5), n_records=3)
    with pytest.raises(ValueError, match="2 columns for 4 classes"):
        check_proba(np.full((2, 2), 0.5), n_classes=4)


def test_check_log_proba_accepts_log_softmax_and_exact_zeros():
    from wsmooth.utils import check_log_proba

    logits = np.array([[300.0, 0.0, -5.0], [1.0, 2.0, 3.0]], dtype=np.float32)
    log_proba = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(
        1, keepdims=True
    )) - logits.max(1, keepdims=True)
    out = check_log_proba(log_proba, n_records=2, n_classes=3)
    assert out.dtype == np.float64
    with np.errstate(divide="ignore"):
        check_log_proba(np.log([[1.0, 0.0], [0.5, 0.5]]))  # -inf: probability 0


@pytest.mark.parametrize(
    "rows, problem",
    [
        ([[np.nan, 0.0]], "NaN or \\+inf"),
        ([[np.inf, 0.0]], "NaN or \\+inf"),
        ([[np.log(0.5), np.log(0.6)]], "do not sum to 1"),
        ([[-np.inf, -np.inf]], "do not sum to 1"),
    ],
)
def test_check_log_proba_rejects_bad_rows(rows, problem):
    from wsmooth.utils import check_log_proba

    with pytest.raises(ValueError, match=f"the target.*{problem}.*of 1 rows"):
        check_log_proba(np.array(rows), model="the target")
    with pytest.raises(ValueError, match="2 columns for 3 classes"):
        check_log_proba(np.zeros((1, 2)) - np.log(2), n_classes=3)
