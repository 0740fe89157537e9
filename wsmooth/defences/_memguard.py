"""MemGuard (Jia et al., CCS 2019): confidence vectors perturbed to fool an attack."""

from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import Interval, validate_parameter_constraints
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from ..utils import check_proba
from ..utils._tags import PrivacyTags

__all__ = ["MemGuard"]

#: Rows per evaluation of the wrapped classifier and per perturbation search.
#: Every call is padded to whole chunks of this size, so each row goes through
#: computations of one fixed shape whatever batch it came in. Float32 results
#: (the net's outputs, the defender's scores) otherwise differ by ~1e-7 with
#: the batch shape, and the search, whose Adam steps have a fixed size
#: whatever the gradient's, carried that to ~1e-2 on some records.
_CHUNK = 64


def _chunks(n):
    """``(rows, padded)`` index pairs covering ``range(n)`` in chunks of
    ``_CHUNK``; ``padded`` repeats the chunk's last row up to the full size."""
    for start in range(0, n, _CHUNK):
        rows = np.arange(start, min(start + _CHUNK, n))
        yield rows, np.pad(rows, (0, _CHUNK - len(rows)), mode="edge")


def _defender_model(n_classes, hidden):
    layers, width = [], n_classes
    for size in hidden:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
        width = size
    layers.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*layers)


class MemGuard(ClassifierMixin, BaseEstimator):
    """Post-hoc defence: perturb a classifier's confidence vectors so that a
    membership attack reads them as coin flips, keeping every predicted label.

    At ``fit`` the defender trains its own attack model (an MLP on the sorted
    confidence vector, as in the paper) to tell the classifier's outputs on
    its training records (members) from its outputs on a reference set
    (non-members). At prediction every output ``p`` is perturbed in logit
    space by a gradient search (rows in chunks of a fixed size, so that a
    record's output does not depend on the batch it comes in) that pushes the
    defender's score towards 0.5 while keeping the top class ahead; the
    perturbation is then scaled back so that ``||p' - p||_1 <= budget`` for
    every record. ``p'`` stays a distribution with the same argmax (a convex
    combination of two vectors with the same argmax; rows where rounding
    would tie are left unperturbed). This is a deterministic per-record L1
    cap; the paper instead adds the noise at random to meet an expected
    budget.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        The model to protect.
    prefit : bool, default=False
        ``True``: ``estimator`` is fitted already and the ``X, y`` given to
        :meth:`fit` are its training records. ``False``: :meth:`fit` fits a
        clone on ``X, y`` (less any held-out reference records).
    budget : float, default=0.5
        Largest L1 distance between an original and a perturbed confidence
        vector, in [0, 2].
    reference_fraction : float, default=0.2
        Without ``X_reference``: the fraction of ``X`` held out (stratified)
        as non-members, which the classifier is then NOT trained on (only
        with ``prefit=False``).
    perturbation_steps : int, default=100
        Gradient steps of the perturbation search.
    attack_hidden_layer_sizes : tuple of int, default=(64,)
    attack_epochs : int, default=200
        Full-batch steps training the defender's attack model.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    estimator_ : classifier
        The protected model.
    attack_model_ : torch.nn.Module
        The defender's attack (sorted confidences -> member logit).
    classes_ : ndarray
    """

    _parameter_constraints = {
        "estimator": [object],
        "prefit": ["boolean"],
        "budget": [Interval(Real, 0, 2, closed="both")],
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
        reference_fraction=0.2,
        perturbation_steps=100,
        attack_hidden_layer_sizes=(64,),
        attack_epochs=200,
        random_state=None,
    ):
        self.estimator = estimator
        self.prefit = prefit
        self.budget = budget
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
            model = _defender_model(members.shape[1], self.attack_hidden_layer_sizes)
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
        """The classifier's confidence vectors, perturbed within the budget.

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
        q = np.concatenate([
            self._search(proba[padded])[: len(rows)]
            for rows, padded in _chunks(len(proba))
        ])
        delta = q - proba
        l1 = np.abs(delta).sum(axis=1)
        scale = np.minimum(1.0, self.budget / np.maximum(l1, 1e-300))
        out = proba + scale[:, None] * delta
        out = np.clip(out, 0, None)
        out /= out.sum(axis=1, keepdims=True)
        changed = out.argmax(axis=1) != proba.argmax(axis=1)
        out[changed] = proba[changed]
        return out

    def _search(self, proba):
        """The gradient search of one chunk: each row's perturbed vector
        (rows do not interact: the loss is a sum over rows, Adam per entry)."""
        p = torch.as_tensor(proba, dtype=torch.float32)
        logits = torch.log(p.clamp_min(1e-12))
        top = p.argmax(dim=1)
        noise = torch.zeros_like(logits, requires_grad=True)
        optimizer = torch.optim.Adam([noise], lr=0.1)
        onehot = F.one_hot(top, p.shape[1]).bool()
        for _ in range(self.perturbation_steps):
            optimizer.zero_grad()
            z = logits + noise
            q = torch.softmax(z, dim=1)
            score = torch.sigmoid(
                self.attack_model_(torch.sort(q, dim=1, descending=True).values)
            ).squeeze(1)
            runner_up = z.masked_fill(onehot, -torch.inf).max(dim=1).values
            keep = F.relu(runner_up - z.gather(1, top[:, None]).squeeze(1) + 1e-3)
            distance = (q - p).abs().sum(dim=1)
            loss = ((score - 0.5).abs() + 10 * keep + 0.1 * distance).sum()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            return torch.softmax(logits + noise, dim=1).double().numpy()

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
