import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    # Tiny nets train far faster single-threaded, above all on a busy machine.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def make_splits(n_members=300, random_state=0):
    """Noisy 4-class data split into members, non-members and a population."""
    X, y = make_classification(
        n_samples=4 * n_members,
        n_features=12,
        n_informative=6,
        n_classes=4,
        n_clusters_per_class=1,
        flip_y=0.15,
        random_state=random_state,
    )
    m, n = n_members, 2 * n_members
    return (X[:m], y[:m]), (X[m:n], y[m:n]), (X[n:], y[n:])


@pytest.fixture(scope="session")
def splits():
    return make_splits()


@pytest.fixture(scope="session")
def forest(splits):
    """An unpruned random forest: it memorises its (noisy) training set."""
    (Xm, ym), _, _ = splits
    return RandomForestClassifier(n_estimators=20, random_state=0).fit(Xm, ym)


def _rank_auc(members, nonmembers):
    """AUC by brute force over all member/non-member pairs (ties count 1/2)."""
    m = np.asarray(members)[:, None]
    n = np.asarray(nonmembers)[None, :]
    return float(np.mean((m > n) + 0.5 * (m == n)))


@pytest.fixture(scope="session")
def rank_auc():
    return _rank_auc


def _smooth_forest():
    # Leaves of 2 records: it memorises, with graded probabilities.
    return RandomForestClassifier(n_estimators=50, min_samples_leaf=2, random_state=0)


@pytest.fixture(scope="session")
def smooth_forest():
    return _smooth_forest


@pytest.fixture(scope="session")
def auc_se():
    """Standard error of an AUC at chance (Hanley & McNeil) for n_m vs n_n."""
    return lambda n_m, n_n: np.sqrt((n_m + n_n + 1) / (12 * n_m * n_n))


@pytest.fixture(scope="session")
def carlini_setup(splits, tmp_path_factory):
    """Carlini et al.'s setup: a memorising target on the members, and a pool
    holding the queries (members, non-members) and the population, whose
    shadow models are cached once for every test module that attacks it."""
    (Xm, ym), (Xn, yn), (Xp, yp) = splits
    pool = np.vstack([Xm, Xn, Xp]), np.r_[ym, yn, yp]
    target = _smooth_forest().fit(Xm, ym)
    return target, pool, tmp_path_factory.mktemp("carlini-shadows")
