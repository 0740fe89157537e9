"""MemGuard (Jia et al., CCS 2019): confidence vectors perturbed to fool an attack."""

from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..nets import MLP
from ..utils import check_proba
from ..utils._sklearn_compat import (
    Interval,
    StrOptions,
    _num_samples,
    _safe_indexing,
    validate_parameter_constraints,
)
from ..utils._tags import PrivacyTags
from ._record_hash import record_uniforms

__all__ = ["MemGuard", "delivery_probability", "memguard_search"]

#: Rows per evaluation of the wrapped classifier and per perturbation search.
#: Every call is padded to whole chunks of this size, so each row goes through
#: computations of one fixed shape whatever batch it came in. Float32 results
#: (the net's outputs, the defender's scores) otherwise differ by ~1e-7 with
#: the batch shape, and the search, whose steps have a fixed length
#: whatever the gradient's, carried that to ~1e-2 on some records.
_CHUNK = 256


def _chunks(n):
    """``(rows, padded)`` index pairs covering ``range(n)`` in chunks of
    ``_CHUNK``; ``padded`` repeats the chunk's last row up to the full size."""
    for start in range(0, n, _CHUNK):
        rows = np.arange(start, min(start + _CHUNK, n))
        yield rows, np.pad(rows, (0, _CHUNK - len(rows)), mode="edge")


#: The authors' weights of the search loss: the defender's logit, the label
#: kept, the L1 distance (the last is searched, from this value upwards).
_C1, _C2, _C3_START = 1.0, 10.0, 0.1
#: The authors' largest distance weight and step size.
_C3_MAX, _STEP = 1e5, 0.1


def memguard_search(defender, p_sorted, *, max_steps=299):
    """The authors' search for the noise of each confidence vector.

    As their code (Jia et al.'s ``defense_framework.py``), for every row at
    once: starting from the logits ``z`` of the sorted vector, steps of
    length 0.1 along the normalised gradient of ``|d(softmax(z))| + 10 *
    relu(max_other(z) - z_top) + c3 * ||softmax(z) - p||_1`` (``d`` the
    defender's logit), until the top class is kept and the defender's
    decision has crossed 0.5, or ``max_steps`` steps. ``c3`` starts at 0.1
    and is multiplied by 10 while the search still succeeds (up to 1e5): the
    result is that of the largest ``c3`` that succeeded, the smallest noise
    found; a row whose first search fails keeps its vector. Rows whose
    defender probability is already within 1e-5 of 0.5 are left alone.

    The one departure: a row whose gradient is zero does not move (the
    authors' division by its norm would give NaN).

    Parameters
    ----------
    defender : torch module
        Sorted confidence vectors -> the defender's member logit, shape
        (n, 1).
    p_sorted : tensor of shape (n, n_classes)
        Confidence vectors sorted in decreasing order (the top class first).
    max_steps : int, default=299
        Steps per value of ``c3`` (the authors' ``max_iteration=300`` with
        their loop from 1: 299).

    Returns
    -------
    q_sorted : tensor of shape (n, n_classes)
        The noisy vectors, in the columns of ``p_sorted``.
    changed : bool tensor of shape (n,)
        Rows given noise.
    """
    # as the authors: the iterate in float64, the defender and the loss in
    # float32 (the search's path is sensitive to rounding, through the signs
    # of the L1 term's gradient)
    # also as the authors, the columns in increasing order: the L1 term's
    # gradient at the start comes from the rounding of softmax(log p) - p,
    # which depends on the order the softmax sums in
    p_sorted = p_sorted.float().flip(1)
    n_classes = p_sorted.shape[1]
    z0 = torch.log(p_sorted.double().clamp_min(1e-30))
    top = F.one_hot(p_sorted.argmax(dim=1), n_classes).bool()

    def logit(z):
        return defender(torch.softmax(z.float(), dim=1).flip(1)).squeeze(1)

    def crossed(z, d, initial):
        # the top class kept and the decision on the other side of 0.5
        kept = z.argmax(dim=1) == top_index
        return kept & ((torch.sigmoid(d.detach()) - 0.5) * (initial - 0.5) <= 0)

    top_index = top.float().argmax(dim=1)
    with torch.no_grad():
        initial = torch.sigmoid(logit(z0))
    result = z0.clone()
    changed = torch.zeros(len(z0), dtype=torch.bool)
    searching = (initial - 0.5).abs() > 1e-5
    c3 = _C3_START
    while searching.any() and c3 <= _C3_MAX:
        z = z0.clone()
        running = searching.clone()
        # each pass evaluates the defender at the current z once: for the
        # stopping test of the step just taken and for the next gradient
        for step in range(max_steps + 1):
            zf = z.float().requires_grad_(True)
            d = logit(zf)
            done = crossed(z, d, initial)
            if step > 0:
                running &= ~done
            if step == max_steps or not running.any():
                break
            correct = zf.masked_fill(~top, 0.0).sum(dim=1)
            wrong = zf.masked_fill(top, -torch.inf).max(dim=1).values
            loss = (
                _C1 * d.abs()
                + _C2 * F.relu(wrong - correct)
                + c3 * (torch.softmax(zf, dim=1) - p_sorted).abs().sum(dim=1)
            )
            (grad,) = torch.autograd.grad(loss.sum(), zf)
            grad = grad.double()
            norm = grad.norm(dim=1, keepdim=True)
            step_ = torch.where(norm > 0, grad / norm.clamp_min(1e-30), 0.0)
            z = torch.where(running[:, None], z - _STEP * step_, z)
        success = searching & done
        result[success] = z[success]
        changed |= success
        searching = success
        c3 *= 10
    return torch.softmax(result, dim=1).flip(1), changed


def delivery_probability(score, noisy_score, distance, budget):
    """Probability of answering with the noisy vector, as the authors'
    evaluation: 0 where the noise does not bring the defender's member
    probability nearer 0.5, else ``min(budget / ||noise||_1, 1)``, so that
    the expected L1 distortion is at most ``budget``.
    """
    helps = np.abs(np.asarray(noisy_score) - 0.5) < np.abs(np.asarray(score) - 0.5)
    distance = np.asarray(distance, dtype=np.float64)
    ratio = np.divide(budget, distance, out=np.ones_like(distance), where=distance > 0)
    return np.where(helps, np.minimum(ratio, 1.0), 0.0)


class MemGuard(ClassifierMixin, BaseEstimator):
    """Post-hoc defence: perturb a classifier's confidence vectors so that a
    membership attack reads them wrongly, keeping every predicted label.

    At ``fit`` the defender trains its own attack model (an MLP on the sorted
    confidence vector, as in the paper) to tell the classifier's outputs on
    its training records (members) from its outputs on a reference set
    (non-members). At prediction every output ``p`` gets the authors' noise
    (:func:`memguard_search`): the smallest noise found that carries the
    defender's decision across 0.5 with the top class kept (rows in chunks
    of a fixed size, so that a record's output does not depend on the batch
    it comes in). Then ``delivery`` decides what is returned:

    - ``"random"`` (the paper's): the noisy vector with probability
      ``min(budget / ||noise||_1, 1)`` (0 where the noise does not bring the
      defender nearer 0.5), else ``p``; the expected L1 distortion is at most
      ``budget``. The draw is a fixed pseudo-random function of the queried
      record (seeded by ``random_state``): the same query always gets the
      same answer, so the randomness cannot be averaged out by asking again.
    - ``"cap"``: the noise scaled back so that ``||p' - p||_1 <= budget``
      for every record, deterministically (a convex combination of two
      vectors with the same argmax; rows where rounding would tie are left
      unperturbed).

    Where this still differs from the authors' code, and why: the defender's
    attack model is a small MLP trained full-batch with Adam on the sorted
    confidences (theirs: a 256-128-64 network trained with SGD), so that the
    defence fits in seconds; the search starts from ``log p`` rather than the
    classifier's own logits (equal up to a constant per row, which the
    softmax and the search's gradients ignore), since any classifier with
    ``predict_proba`` can be wrapped; and the random delivery is drawn per
    record as above, where the authors evaluate its expectation.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        The model to protect.
    prefit : bool, default=False
        ``True``: ``estimator`` is fitted already and the ``X, y`` given to
        :meth:`fit` are its training records. ``False``: :meth:`fit` fits a
        clone on ``X, y`` (less any held-out reference records).
    budget : float, default=0.5
        The L1 distortion budget, in [0, 2]: expected (``"random"``) or for
        every record (``"cap"``).
    delivery : {"random", "cap"}, default="random"
        How the noise is delivered (above).
    reference_fraction : float, default=0.2
        Without ``X_reference``: the fraction of ``X`` held out (stratified)
        as non-members, which the classifier is then NOT trained on (only
        with ``prefit=False``).
    perturbation_steps : int, default=299
        Most gradient steps of the search per value of its distance weight
        (the authors' value).
    attack_hidden_layer_sizes : tuple of int, default=(64,)
    attack_epochs : int, default=200
        Full-batch steps training the defender's attack model.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    estimator_ : classifier
        The protected model.
    attack_model_ : wsmooth.nets.MLP
        The defender's attack (sorted confidences -> member logit), a ReLU
        MLP of ``attack_hidden_layer_sizes``.
    delivery_seed_ : int
        Seed of the per-record draws of the random delivery.
    classes_ : ndarray
    """

    _parameter_constraints = {
        "estimator": [object],
        "prefit": ["boolean"],
        "budget": [Interval(Real, 0, 2, closed="both")],
        "delivery": [StrOptions({"random", "cap"})],
        "reference_fraction": [Interval(Real, 0, 1, closed="neither")],
        "perturbation_steps": [Interval(Integral, 0, None, closed="left")],
        "attack_hidden_layer_sizes": [tuple, list],
        "attack_epochs": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        prefit=False,
        budget=0.5,
        delivery="random",
        reference_fraction=0.2,
        perturbation_steps=299,
        attack_hidden_layer_sizes=(64,),
        attack_epochs=200,
        random_state=None,
    ):
        self.estimator = estimator
        self.prefit = prefit
        self.budget = budget
        self.delivery = delivery
        self.reference_fraction = reference_fraction
        self.perturbation_steps = perturbation_steps
        self.attack_hidden_layer_sizes = attack_hidden_layer_sizes
        self.attack_epochs = attack_epochs
        self.random_state = random_state

    def fit(self, X, y, X_reference=None, y_reference=None):
        """Fit (or take) the classifier and train the defender's attack.

        Parameters
        ----------
        X, y : array-like
            The classifier's training records (members).
        X_reference, y_reference : array-like, default=None
            Non-members for the defender's attack; without them a
            ``reference_fraction`` of ``X`` is held out.

        Returns
        -------
        self
        """
        validate_parameter_constraints(
            self._parameter_constraints, self.get_params(deep=False), "MemGuard"
        )
        if y is None:
            raise ValueError(
                "MemGuard requires y to be passed, but the target y is None: the "
                "classifier it defends is trained (or was trained) on labels."
            )
        if (X_reference is None) != (y_reference is None):
            raise ValueError("pass both X_reference and y_reference, or neither")
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        if X_reference is None:
            if self.prefit:
                raise ValueError(
                    "prefit=True needs X_reference, y_reference: records the "
                    "estimator was not trained on"
                )
            y_arr = np.asarray(y)
            _, counts = np.unique(y_arr, return_counts=True)
            stratify = y_arr if counts.min() >= 2 else None
            X, X_reference, y, y_reference = train_test_split(
                X, y, test_size=self.reference_fraction, random_state=seed,
                stratify=stratify,
            )
        if self.prefit:
            check_is_fitted(self.estimator)
            self.estimator_ = self.estimator
        else:
            self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        members = self._sorted_proba(X)
        others = self._sorted_proba(X_reference)
        self.attack_model_ = self._train_attack(members, others, seed)
        self.delivery_seed_ = (seed + 0x4D47) % np.iinfo(np.int32).max
        return self

    def _raw_proba(self, X):
        n = _num_samples(X)
        if n == 0:
            proba = np.asarray(self.estimator_.predict_proba(X), dtype=np.float64)
        else:
            proba = np.concatenate([
                np.asarray(
                    self.estimator_.predict_proba(_safe_indexing(X, padded)),
                    dtype=np.float64,
                )[: len(rows)]
                for rows, padded in _chunks(n)
            ])
        check_proba(proba, n_records=len(proba), n_classes=len(self.classes_),
                    model=type(self.estimator_).__name__)
        return proba

    def _sorted_proba(self, X):
        return torch.as_tensor(-np.sort(-self._raw_proba(X), axis=1), dtype=torch.float32)

    def _train_attack(self, members, others, seed):
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            model = MLP(
                members.shape[1], 1, self.attack_hidden_layer_sizes, activation="relu"
            )
        inputs = torch.cat([members, others])
        target = torch.cat([torch.ones(len(members)), torch.zeros(len(others))])
        # balance the two sides
        weight = torch.where(target == 1, 0.5 / len(members), 0.5 / len(others))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(self.attack_epochs):
            optimizer.zero_grad()
            loss = (
                F.binary_cross_entropy_with_logits(
                    model(inputs).squeeze(1), target, reduction="none"
                )
                * weight
            ).sum()
            loss.backward()
            optimizer.step()
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        return model

    def defender_score(self, proba):
        """The defender's attack: member probability of each confidence vector."""
        check_is_fitted(self, "attack_model_")
        sorted_ = torch.as_tensor(-np.sort(-np.asarray(proba), axis=1), dtype=torch.float32)
        with torch.no_grad():
            return torch.sigmoid(self.attack_model_(sorted_).squeeze(1)).numpy()

    def _validate(self, X):
        check_is_fitted(self, "attack_model_")
        return X

    def predict_proba(self, X):
        """The classifier's confidence vectors, defended.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        proba = self._raw_proba(self._validate(X))
        if self.perturbation_steps == 0 or self.budget == 0 or len(proba) == 0:
            return proba
        parts = [
            [a[: len(rows)] for a in self._search(proba[padded])]
            for rows, padded in _chunks(len(proba))
        ]
        noisy, score, noisy_score = (np.concatenate(a) for a in zip(*parts))
        delta = noisy - proba
        l1 = np.abs(delta).sum(axis=1)
        if self.delivery == "cap":
            scale = np.minimum(1.0, self.budget / np.maximum(l1, 1e-300))
            out = proba + scale[:, None] * delta
            out = np.clip(out, 0, None)
            out /= out.sum(axis=1, keepdims=True)
            changed = out.argmax(axis=1) != proba.argmax(axis=1)
            out[changed] = proba[changed]
            return out
        probability = delivery_probability(
            score, noisy_score, l1, self.budget
        )
        coin = self._coins(X, proba)
        return np.where((coin < probability)[:, None], noisy, proba)

    def _coins(self, X, proba):
        """A uniform draw per record that depends on the record only (its
        features, or its confidence vector when the features are not
        numeric), so that the same query always gets the same answer."""
        try:
            record = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            record = proba
        if record.ndim < 2 or not np.isfinite(record).all():
            record = proba
        return record_uniforms(record, 1, self.delivery_seed_)[:, 0]

    def _search(self, proba):
        """The authors' noise search on one chunk of confidence vectors,
        vectorised over its rows (rows do not interact: each row's gradient
        is its own and is normalised on its own).

        Returns the noisy vectors and the defender's member probability of
        the original and of the noisy vectors.
        """
        p = torch.as_tensor(proba, dtype=torch.float32)
        order = torch.argsort(p, dim=1, descending=True, stable=True)
        noisy_sorted, changed = memguard_search(
            self.attack_model_, p.gather(1, order), max_steps=self.perturbation_steps
        )
        noisy = torch.empty_like(noisy_sorted).scatter_(1, order, noisy_sorted)
        noisy = np.where(changed.numpy()[:, None], noisy.double().numpy(), proba)
        return noisy, self.defender_score(proba), self.defender_score(noisy)

    def predict(self, X):
        """The classifier's own predicted labels (MemGuard never changes them)."""
        check_is_fitted(self, "attack_model_")
        return self.estimator_.predict(X)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    def __privacy_tags__(self):
        """Outputs perturbed at prediction (unless ``budget`` or
        ``perturbation_steps`` is 0); ``fit`` takes a reference set."""
        perturbs = self.budget != 0 and self.perturbation_steps != 0
        return PrivacyTags(modifies_outputs=bool(perturbs), takes_reference=True)
