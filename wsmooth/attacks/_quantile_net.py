"""A small torch network regressor for the quantile attack.

:class:`QuantileNetRegressor` is a fully connected network fitted with the
pinball loss (a conditional quantile), with the Gaussian negative
log-likelihood (a conditional mean and standard deviation), or with the
cross-entropy to a target probability vector (distillation of a
classifier's outputs). It is the regressor family of Bertran et al.
(NeurIPS 2023): a network of the target's kind, rather than trees on the raw
features.

With ``label_columns=K`` the last ``K`` columns of ``X`` are a one-hot label
``y`` and the network has a *hinge head*: the trunk reads the other columns
and outputs ``K`` logits ``z``, and the prediction is their margin
``z_y - max_{k != y} z_k``, the same function of its logits as the target's
hinge score. The regressor is then the target's architecture, its margin
fitted to the target's margins, and it inherits the target's way of
generalising from records to similar ones; a scalar head reading the label
as ``K`` more inputs has to learn that interaction and, measured on the
attack's benchmark, mostly does not.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._sklearn_compat import Interval, StrOptions

__all__ = ["QuantileNetRegressor"]

_ACTIVATIONS = ("tanh", "relu")
#: log standard deviations are clipped here (in units of the target's spread)
_LOG_STD_RANGE = (-7.0, 7.0)


def _check_one_hot(label_block):
    """Class index of each row of a one-hot block; a clear error otherwise."""
    ones = label_block == 1.0
    if not (np.all(ones | (label_block == 0.0)) and np.all(ones.sum(axis=1) == 1)):
        raise ValueError(
            f"the last {label_block.shape[1]} columns of X (label_columns="
            f"{label_block.shape[1]}) must be a one-hot label: one 1 and "
            "otherwise 0 in every row"
        )
    return np.argmax(ones, axis=1)


def _check_log_proba(y, n):
    """``y`` as a float matrix of log-probabilities, one row per record."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2 or y.shape[0] != n or y.shape[1] < 2:
        raise ValueError(
            f"loss='cross_entropy' needs y of shape (n_samples={n}, n_classes >= 2) "
            f"(log-probabilities), got {y.shape}"
        )
    with np.errstate(over="ignore"):
        bad = np.isnan(y) | (y == np.inf)
    if bad.any() or not np.allclose(np.exp(y).sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            "loss='cross_entropy' needs y to be log-probabilities: finite or "
            "-inf, each row's exp summing to 1"
        )
    return y


class QuantileNetRegressor(RegressorMixin, BaseEstimator):
    """Fully connected network regressor of a quantile, a Gaussian, or a
    classifier's log-probabilities.

    Parameters
    ----------
    quantile : float in (0, 1), default=0.99
        The quantile estimated with ``loss="quantile"``: the network minimises
        the pinball loss ``max(tau * r, (tau - 1) * r)``, ``r = y - f(x)``,
        whose minimiser is the ``tau`` quantile of ``y`` given ``x``. Not read
        with ``loss="gaussian"``.
    loss : {"quantile", "gaussian", "cross_entropy"}, default="quantile"
        ``"gaussian"``: two outputs, a mean ``mu`` and a log standard
        deviation, fitted with the Gaussian negative log-likelihood
        ``log sigma + (y - mu)^2 / (2 sigma^2)``; ``predict`` gives ``mu``,
        ``predict(X, return_std=True)`` also ``sigma``.
        ``"cross_entropy"``: ``y`` is a matrix of log-probabilities (one row
        per record, each row's ``exp`` summing to 1), the network has one
        output per column, and it minimises the cross-entropy
        ``-sum_k exp(y_k) log softmax(f(x))_k``, so that ``predict`` returns
        its log-probabilities, a distilled copy of the classifier that gave
        ``y``. ``label_columns`` must then be None and ``y`` is not
        standardised.
    label_columns : int >= 2 or None, default=None
        The last ``label_columns`` columns of ``X`` are a one-hot label:
        the network reads the other columns and predicts the margin of
        ``label_columns`` logits at the label (the hinge head; see the module
        notes). The log standard deviation of ``loss="gaussian"`` is then a
        second set of ``label_columns`` outputs, read at the label. None: one
        output (two with ``"gaussian"``) from all columns.
    hidden_layer_sizes : tuple of int, default=(128,)
        Widths of the hidden layers.
    activation : {"tanh", "relu"}, default="tanh"
    max_epochs : int, default=6
        Passes over the training records (a fixed number; no validation split).
    batch_size : int, default=128
    lr : float, default=1e-3
        Adam's learning rate.
    weight_decay : float >= 0, default=0.0
        Adam's ``weight_decay``: an L2 penalty of this weight on every
        parameter, added to the gradient.
    n_networks : int >= 1, default=1
        Networks trained, each from its own initial weights and batch order,
        whose predictions are averaged (the mean of their log-probabilities,
        renormalised, with ``loss="cross_entropy"``; of their means and
        standard deviations with ``loss="gaussian"``). The cost grows in
        proportion.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights and the batch order; the global torch generator is
        left as it was. The same seed gives the same fit on the CPU. The
        torch seed is drawn from it otherwise than a wsmooth classifier's,
        so the same ``random_state`` as the target's does not start this
        network from the target's initial weights.

    Attributes
    ----------
    modules_ : list of torch.nn.Module
        The ``n_networks`` fitted networks (their outputs are in units of the
        standardised target).
    n_features_in_ : int
    y_mean_, y_scale_ : float
        The target is standardised with these before fitting; predictions are
        mapped back.

    Notes
    -----
    The target ``y`` is standardised (mean 0, standard deviation 1) so that
    one learning rate fits targets of any scale.
    """

    _parameter_constraints = {
        "quantile": [Interval(Real, 0, 1, closed="neither")],
        "loss": [StrOptions({"quantile", "gaussian", "cross_entropy"})],
        "label_columns": [Interval(Integral, 2, None, closed="left"), None],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "n_networks": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        quantile=0.99,
        *,
        loss="quantile",
        label_columns=None,
        hidden_layer_sizes=(128,),
        activation="tanh",
        max_epochs=6,
        batch_size=128,
        lr=1e-3,
        weight_decay=0.0,
        n_networks=1,
        random_state=None,
    ):
        self.quantile = quantile
        self.loss = loss
        self.label_columns = label_columns
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_networks = n_networks
        self.random_state = random_state

    # ------------------------------------------------------------------ #
    def _hidden_sizes(self):
        sizes = tuple(self.hidden_layer_sizes)
        if not all(
            isinstance(h, Integral) and not isinstance(h, bool) and h >= 1
            for h in sizes
        ):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got "
                f"{self.hidden_layer_sizes!r}"
            )
        return sizes

    def _split(self, X):
        """Network inputs and label index of each row (None without labels)."""
        if self.label_columns is None:
            return X, None
        k = int(self.label_columns)
        if X.shape[1] <= k:
            raise ValueError(
                f"X has {X.shape[1]} columns, but label_columns={k} leaves no "
                "feature column"
            )
        return X[:, :-k], _check_one_hot(X[:, -k:])

    def _outputs(self, module, inputs, label):
        """``(location, log_std or None)`` of one network, in standardised
        units."""
        import torch

        out = module(inputs)
        if self.loss == "cross_entropy":
            return torch.log_softmax(out, dim=1), None
        n_heads = 2 if self.loss == "gaussian" else 1
        if label is None:
            return out[:, 0], (out[:, 1] if n_heads == 2 else None)
        rows = torch.arange(out.shape[0])
        logits = out[:, : self.label_columns]
        at_label = logits[rows, label]
        others = logits.masked_fill(
            torch.nn.functional.one_hot(label, self.label_columns).bool(), -torch.inf
        )
        margin = at_label - others.amax(dim=1)
        if n_heads == 1:
            return margin, None
        return margin, out[:, self.label_columns :][rows, label]

    def _loss(self, location, log_std, target):
        import torch

        if self.loss == "cross_entropy":
            # target probabilities times the fitted log-probabilities; 0 * -inf
            # of a class the teacher rules out counts 0
            return -(target * location).nan_to_num(nan=0.0).sum(dim=1).mean()
        if self.loss == "gaussian":
            log_std = log_std.clamp(*_LOG_STD_RANGE)
            z = (target - location) * torch.exp(-log_std)
            return (log_std + 0.5 * z**2).mean()
        tau = float(self.quantile)
        residual = target - location
        return torch.maximum(tau * residual, (tau - 1.0) * residual).mean()

    def fit(self, X, y):
        """Fit the network on ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), or (n_samples, n_classes)
            log-probabilities with ``loss="cross_entropy"``

        Returns
        -------
        self
        """
        import torch

        self._validate_params()
        sizes = self._hidden_sizes()
        distill = self.loss == "cross_entropy"
        if distill and self.label_columns is not None:
            raise ValueError(
                "loss='cross_entropy' predicts the whole log-probability vector "
                f"and reads no label: label_columns must be None, got "
                f"{self.label_columns}"
            )
        if distill:
            X = validate_data(self, X, dtype=np.float64)
            y = _check_log_proba(y, X.shape[0])
        else:
            X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        inputs, label = self._split(X)
        if distill:
            self.y_mean_, self.y_scale_ = 0.0, 1.0
        else:
            self.y_mean_ = float(np.mean(y))
            scale = float(np.std(y))
            self.y_scale_ = scale if scale > 0 else 1.0

        # mixed, so that the random_state of a wsmooth classifier (which seeds
        # torch with randint(2**31 - 1)) never gives that classifier's weights
        drawn = check_random_state(self.random_state).randint(2**31 - 1)
        seeds = np.random.SeedSequence([drawn, 0x9E7]).generate_state(
            int(self.n_networks)
        )
        if distill:
            n_out = y.shape[1]
        else:
            n_out = 1 if self.label_columns is None else int(self.label_columns)
        if self.loss == "gaussian":
            n_out *= 2

        inputs_t = torch.as_tensor(inputs, dtype=torch.float32)
        label_t = None if label is None else torch.as_tensor(label, dtype=torch.int64)
        if distill:
            target_t = torch.as_tensor(np.exp(y), dtype=torch.float32)
        else:
            target_t = torch.as_tensor(
                (y - self.y_mean_) / self.y_scale_, dtype=torch.float32
            )
        self.modules_ = [
            self._train_one(int(seed >> 1), sizes, n_out, inputs_t, label_t, target_t)
            for seed in seeds
        ]
        return self

    def _train_one(self, seed, sizes, n_out, inputs_t, label_t, target_t):
        """One network, trained from the weights and batch order of ``seed``."""
        import torch
        from torch import nn

        act = {"tanh": nn.Tanh, "relu": nn.ReLU}[self.activation]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            layers, width = [], inputs_t.shape[1]
            for size in sizes:
                layers += [nn.Linear(width, int(size)), act()]
                width = int(size)
            layers.append(nn.Linear(width, n_out))
            module = nn.Sequential(*layers)
        generator = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.Adam(
            module.parameters(), lr=float(self.lr),
            weight_decay=float(self.weight_decay),
        )
        n = inputs_t.shape[0]
        module.train()
        for _ in range(int(self.max_epochs)):
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, int(self.batch_size)):
                batch = order[start : start + int(self.batch_size)]
                location, log_std = self._outputs(
                    module,
                    inputs_t[batch],
                    None if label_t is None else label_t[batch],
                )
                loss = self._loss(location, log_std, target_t[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        module.eval()
        return module

    def predict(self, X, return_std=False):
        """The fitted quantile (or mean) of the target for each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        return_std : bool, default=False
            Also return the standard deviation (``loss="gaussian"`` only).

        Returns
        -------
        ndarray of shape (n_samples,), or a pair of them with ``return_std``;
        of shape (n_samples, n_classes), log-probabilities, with
        ``loss="cross_entropy"``
        """
        import torch

        check_is_fitted(self, "modules_")
        if return_std and self.loss != "gaussian":
            raise ValueError(
                f"return_std=True needs loss='gaussian'; this regressor was "
                f"fitted with loss={self.loss!r}"
            )
        X = validate_data(self, X, dtype=np.float64, reset=False)
        inputs, label = self._split(X)
        inputs_t = torch.as_tensor(inputs, dtype=torch.float32)
        label_t = None if label is None else torch.as_tensor(label, dtype=torch.int64)
        with torch.no_grad():
            outputs = [self._outputs(m, inputs_t, label_t) for m in self.modules_]
        location = np.mean([loc.double().numpy() for loc, _ in outputs], axis=0)
        if self.loss == "cross_entropy":
            # the networks' mean log-probabilities, renormalised
            return location - logsumexp(location, axis=1, keepdims=True)
        location = location * self.y_scale_ + self.y_mean_
        if not return_std:
            return location
        std = np.mean(
            [np.exp(ls.double().clamp(*_LOG_STD_RANGE).numpy()) for _, ls in outputs],
            axis=0,
        )
        return location, std * self.y_scale_
