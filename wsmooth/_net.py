"""NetClassifier: the skorch classifier every wsmooth network estimator shares.

It holds what is not specific to any one defence: data validation and label
encoding, seeding from ``random_state``, the default network sized from the
data, training batches fetched a batch at a time, gradient-norm clipping, the
Ctrl-C guard, divergence checks, the record of the final model's outputs on
its training records (left out of pickles), ``warm_start`` and
``partial_fit`` rules, and prediction. On its own it is the
undefended network (the ``"none"`` defence and the cheap baselines of
:mod:`wsmooth.defences`).

:class:`~wsmooth.WeightedSmoothingClassifier` and the network estimators of
:mod:`wsmooth.defences` subclass it, through skorch's override points rather
than copies of its training step: a subclass changes the training loss by
overriding :meth:`NetClassifier.train_loss`, keeps per-epoch state in
``on_train_begin`` / ``on_epoch_begin`` / ``on_train_end`` (calling
``super()``), and may bound each step's gradient by overriding
``_clip_limit``, which the net's ``on_grad_computed`` applies between the
backward pass and the optimizer step.
"""

import inspect
import math
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochScoring
from skorch.dataset import Dataset as SkorchDataset
from skorch.utils import to_device as _to_device
from torch.utils.data import DataLoader, Subset
from torch.utils.data import Dataset as TorchDataset

from .nets import MLP
from .utils import reraise_interrupt
from .utils._sklearn_compat import Interval, Options, validate_parameter_constraints

__all__ = ["NetClassifier", "TrainingDivergedError", "IndexedTrainingSet"]

#: Records per forward pass when the whole training set is evaluated at once
#: (on the CPU, chunks that stay in cache ran faster than one large pass:
#: 0.44-0.50 s vs 0.54-0.77 s at 10,000 records through the default MLP).
_EVAL_CHUNK = 1024

#: Largest magnitude a float64 feature may have: beyond it the cast to float32
#: gives infinity.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def unavailable_partial_fit(reason):
    """A ``partial_fit`` that ``hasattr`` does not see, for nets that cannot
    train incrementally.

    ``hasattr(est, "partial_fit")`` is False (scikit-learn's
    :func:`~sklearn.utils.metaestimators.available_if`), so scikit-learn and
    incremental-learning code see an estimator without it; reaching for it
    raises an ``AttributeError`` whose cause gives ``reason``.
    """

    def check(self):
        raise AttributeError(
            f"{type(self).__name__} has no partial_fit: {reason} Call fit."
        )

    def partial_fit(self, X, y, classes=None, **fit_params):
        raise AssertionError("unreachable")  # pragma: no cover

    partial_fit.__doc__ = (
        f"Not available: {reason}\n\n"
        "``hasattr(est, \"partial_fit\")`` is False, so scikit-learn and\n"
        "incremental-learning code see an estimator without it.\n"
    )
    return available_if(check)(partial_fit)


def _total_norm(tensors):
    """``torch.nn.utils.get_total_norm(tensors, foreach=True)``, to the last bit.

    The same operations (each tensor's 2-norm by ``_foreach_norm``, then the
    2-norm of those) without its grouping by device and dtype in Python, which
    costs more than the norms of a small network's gradients; tensors of
    several devices or dtypes go to ``get_total_norm`` itself.
    """
    first = tensors[0]
    if all(t.dtype == first.dtype and t.device == first.device for t in tensors):
        return torch.linalg.vector_norm(
            torch.stack(torch._foreach_norm(tensors, 2.0)), 2.0
        )
    return torch.nn.utils.get_total_norm(tensors, foreach=True)


class TrainingDivergedError(ValueError):
    """Training produced a non-finite loss or a non-finite model.

    Raised instead of returning a model that only looks fitted: once the loss is
    NaN the weights are NaN too and every prediction is meaningless.
    """


def _encoded_accuracy(net, X, y):
    """Accuracy on a skorch validation set, whose labels are class indices."""
    return float(np.mean(net.predict_proba(X).argmax(axis=1) == np.asarray(y)))


def _check_float32_range(X):
    """Refuse float64 values that the cast to float32 would make infinite."""
    if X.dtype == np.float64 and X.size and (
        X.max() > _FLOAT32_MAX or X.min() < -_FLOAT32_MAX
    ):
        raise ValueError(
            f"X holds values beyond the float32 range (|x| > {_FLOAT32_MAX:.3g}), "
            "which the network's float32 input would turn into infinity. Scale "
            "the features first (e.g. StandardScaler)."
        )


class IndexedTrainingSet(TorchDataset):
    """The training part of a split, yielding each record's position too.

    Items are ``((X_i, i), y_i)`` with ``i`` the record's position in the
    training set, so that a training step can look up per-record weights.
    ``X`` and ``y`` hold the training records' arrays.
    """

    def __init__(self, dataset):
        self.dataset = dataset
        if isinstance(dataset, Subset):
            indices = np.asarray(dataset.indices)
            self.X, self.y = dataset.dataset.X[indices], dataset.dataset.y[indices]
        else:
            self.X, self.y = dataset.X, dataset.y

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        Xi, yi = self.dataset[i]
        return (Xi, i), yi

    def fetches_batches(self):
        """Whether :meth:`batch` gives what collating records one by one would:
        the records are a skorch ``Dataset`` (or a subset of one) of plain
        arrays, which returns ``X[i]`` and ``y[i]`` unchanged."""
        base = self.dataset
        if isinstance(base, Subset):
            base = base.dataset
        return (
            type(base) is SkorchDataset
            and isinstance(self.X, np.ndarray)
            and isinstance(self.y, np.ndarray)
            and self.X.dtype.kind == "f"
            and self.y.dtype.kind in "iu"
        )

    def batch(self, indices):
        """The records at ``indices`` as one collated batch: the tensors that
        ``default_collate([self[i] for i in indices])`` gives, from one
        indexing of each array (see :meth:`fetches_batches`)."""
        positions = np.asarray(indices, dtype=np.int64)
        Xb = torch.from_numpy(np.ascontiguousarray(self.X[positions]))
        yb = torch.from_numpy(np.ascontiguousarray(self.y[positions]))
        return (Xb, torch.from_numpy(positions)), yb


class _BatchFetch(TorchDataset):
    """An :class:`IndexedTrainingSet` that a ``DataLoader`` reads a batch at a
    time (``__getitems__``), with :func:`_collated` as its ``collate_fn``."""

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        return self.dataset[i]

    def __getitems__(self, indices):
        return self.dataset.batch(indices)


def _collated(batch):
    """``collate_fn`` of a batch :class:`_BatchFetch` has collated already."""
    return batch


class NetClassifier(NeuralNetClassifier):
    """Base of wsmooth's network classifiers; on its own, the undefended network.

    A skorch :class:`~skorch.NeuralNetClassifier` that validates its data the
    scikit-learn way, takes labels of any hashable type, seeds everything from
    ``random_state``, builds :class:`wsmooth.nets.MLP` sized from the data when
    ``module=None``, re-raises Ctrl-C, refuses diverged models and records the
    final model's outputs on its training records (``member_proba_``,
    ``member_labels_``; never pickled). Subclasses set the training loss with
    :meth:`train_loss`.

    It trains plain ``criterion`` (cross-entropy): the registry's ``"none"``
    defence is this class with ``clip_grad_norm=10``, the same model, bit for
    bit, as :class:`~wsmooth.WeightedSmoothingClassifier` at ``sigma=0`` and
    its defaults.

    Parameters
    ----------
    module : torch module class or instance, default=None
        ``None`` builds :class:`wsmooth.nets.MLP` sized from the data. A module
        class whose constructor takes ``n_features`` / ``n_classes`` gets them
        from the data unless given as ``module__*``. It must return logits.
    criterion, optimizer, lr, max_epochs, batch_size, train_split, verbose
        skorch parameters, with defaults ``CrossEntropyLoss``, ``Adam``,
        ``1e-3``, ``30``, ``128``, ``None`` (every record passed to ``fit`` is
        trained on: members are members) and ``0``.
    clip_grad_norm : float or None, default=None
        Clip the norm of each step's gradient (over the module's parameters)
        at this bound, as :func:`torch.nn.utils.clip_grad_norm_` does, between
        the backward pass and the optimizer step. ``None``: no clipping.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and dropout.
    **kwargs
        Any other skorch parameter (``iterator_train__shuffle`` defaults to True).
    """

    _parameter_constraints = {
        "random_state": ["random_state"],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), Options(int, {-1})],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
    }

    #: Fitted attributes derived from individual training records: dropped by
    #: a new ``fit`` and left out of pickles.
    _member_attributes = ("member_proba_", "member_labels_")

    #: Attributes that live only during training; never pickled.
    _transient_attributes = ("_dataset_train", "_parameter_list")

    #: What the divergence error tells the user to do.
    _divergence_remedy = "Lower lr or scale the features."

    def __init__(
        self,
        module=None,
        *args,
        criterion=torch.nn.CrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=30,
        batch_size=128,
        train_split=None,
        verbose=0,
        clip_grad_norm=None,
        random_state=None,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__shuffle", True)
        super().__init__(
            module,
            *args,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=train_split,
            verbose=verbose,
            **kwargs,
        )
        self.clip_grad_norm = clip_grad_norm
        self.random_state = random_state

    # ------------------------------------------------------------------ set-up
    @property
    def _default_callbacks(self):
        callbacks = [
            # skorch's own valid_acc compares predict() (original labels) with
            # the encoded labels it reads from the validation set
            (
                name,
                EpochScoring(
                    _encoded_accuracy, name="valid_acc", lower_is_better=False
                ),
            )
            if name == "valid_acc"
            else (name, cb)
            for name, cb in super()._default_callbacks
        ]
        return callbacks

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        module = MLP if self.module is None else self.module
        if isinstance(module, type) and hasattr(self, "n_features_in_"):
            accepted = inspect.signature(module).parameters
            if "n_features" in accepted:
                kwargs.setdefault("n_features", self.n_features_in_)
            if "n_classes" in accepted:
                kwargs.setdefault("n_classes", len(self.classes_))
        self.module_ = self.initialized_instance(module, kwargs)
        return self

    @property
    def classes_(self):
        """Class labels known to the classifier."""
        try:
            return self.label_encoder_.classes_
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'classes_' before fit"
            ) from None

    def _get_param_names(self):
        # skorch takes every attribute not ending in "_" for a parameter, so
        # training state kept in private attributes (the noise generator,
        # the training set, clipping history) would reach get_params, clone
        # and the shadow cache's fingerprint, which must not depend on a fit
        return [k for k in super()._get_param_names() if not k.startswith("_")]

    def _check_hyperparameters(self):
        validate_parameter_constraints(
            self._parameter_constraints,
            {name: getattr(self, name) for name in self._parameter_constraints},
            caller_name=type(self).__name__,
        )

    def _validate_training_data(self, X, y, reset, classes=None):
        """Check ``X`` and ``y``; fit or check the label encoder.

        ``reset`` learns the classes anew (from ``classes`` if given, else from
        the ``classes`` parameter, else from ``y``); otherwise ``y`` must hold
        known classes only.
        """
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=(np.float32, np.float64),
            allow_nd=True,
            y_numeric=False,
        )
        _check_float32_range(X)
        check_classification_targets(y)
        if reset:
            known = classes if classes is not None else self.classes
            encoder = LabelEncoder()
            if known is not None:
                encoder.fit(np.asarray(known))
                unknown = np.setdiff1d(np.unique(y), encoder.classes_)
                if unknown.size:
                    raise ValueError(f"y holds labels not in `classes`: {unknown[:10]}")
            else:
                encoder.fit(y)
            if len(encoder.classes_) < 2:
                raise ValueError(
                    "The classifier needs samples of at least 2 classes in the data, "
                    f"but the data contain only one class: {encoder.classes_[0]!r}"
                )
            self.label_encoder_ = encoder
        else:
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            if unknown.size:
                raise ValueError(f"y holds labels unseen in fit: {unknown[:10]}")
        return X.astype(np.float32, copy=False), self.label_encoder_.transform(y)

    def _seed(self, offset=0):
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return (int(seed) + offset) % (2**63 - 1)

    @contextmanager
    def _seeded_rng(self, seed):
        """Run with torch's global generators seeded, restoring them afterwards.

        The global generators drive weight initialisation, shuffling and dropout.
        """
        device = torch.device(self.device) if self.device else torch.device("cpu")
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    def _fit_warnings(self, done_epochs):
        """Warn about settings that make ``fit`` pointless (subclass hook)."""

    # --------------------------------------------------------------- training
    def fit(self, X, y, **fit_params):
        """Initialise and train the network on every record of ``X``.

        A Ctrl-C (SIGINT) during training stops it and is re-raised (skorch
        alone would return the truncated model as if it had finished);
        skorch's ``EarlyStopping`` still ends training quietly. With
        ``warm_start=True`` a second ``fit`` continues the trained module: its
        ``y`` must hold classes the module already has and ``X`` the same
        number of features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features (cast to float32 for torch; the input is not
            modified). Values beyond the float32 range are refused.
        y : array-like of shape (n_samples,)
            Class labels, any hashable type.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self

        Raises
        ------
        TrainingDivergedError
            If the loss or the trained model is not finite (NaN or infinity).
        """
        self._check_hyperparameters()
        warm = self.warm_start and self.initialized_ and hasattr(self, "label_encoder_")
        if warm:
            X, y = self._validate_warm_refit(X, y)
        else:
            X, y = self._validate_training_data(X, y, reset=True)
        for name in self._member_attributes:
            self.__dict__.pop(name, None)
        done = len(self.history) if warm else 0
        self._fit_warnings(done)
        with reraise_interrupt(), self._seeded_rng(self._seed(done)):
            if not warm:
                self.initialize()
            super().partial_fit(X, y, **fit_params)
        return self

    def _validate_warm_refit(self, X, y):
        """With ``warm_start``, the data must fit the module being continued."""
        try:
            return self._validate_training_data(X, y, reset=False)
        except ValueError as exc:
            raise ValueError(
                f"{exc} (warm_start=True continues the trained module, built for "
                f"{self.n_features_in_} features and the classes "
                f"{self.classes_.tolist()[:10]}; set warm_start=False to train a "
                "new one)"
            ) from exc

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        Ctrl-C is re-raised as in :meth:`fit`.

        Parameters
        ----------
        X, y, **fit_params
            As in :meth:`fit`.
        classes : array-like of shape (n_classes,), default=None
            Every class label, needed on the first call when ``y`` does not show
            them all. On later calls it must equal ``classes_`` (the module's
            output width is fixed).

        Returns
        -------
        self
        """
        self._check_hyperparameters()
        first = not (self.initialized_ and hasattr(self, "label_encoder_"))
        if classes is not None:
            classes = np.asarray(classes)
            if classes.ndim != 1 or len(classes) == 0:
                raise ValueError(
                    f"classes must be a non-empty 1-d array, got shape {classes.shape}"
                )
            if np.unique(classes).size != classes.size:
                raise ValueError("classes holds repeated labels")
            if not first and not np.array_equal(np.sort(classes), self.classes_):
                raise ValueError(
                    f"classes={classes.tolist()[:10]} differs from the classes of the "
                    f"first partial_fit ({self.classes_.tolist()[:10]}); the module's "
                    "output width is fixed. Call fit to start again."
                )
        X, y = self._validate_training_data(X, y, reset=first, classes=classes)
        offset = 0 if first else len(self.history)
        with reraise_interrupt(), self._seeded_rng(self._seed(offset)):
            if first:
                self.initialize()
            super().partial_fit(X, y, **fit_params)
        return self

    def get_split_datasets(self, X, y=None, **fit_params):
        # Training batches carry each record's position (for per-record
        # state); validation and prediction batches are plain.
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        return IndexedTrainingSet(dataset_train), dataset_valid

    def get_iterator(self, dataset, training=False):
        """skorch's iterator; for a training set of plain arrays, one whose
        batches are fetched by one indexing instead of record by record.

        skorch's ``DataLoader`` calls the dataset once per record and then
        stacks the records, which on a small network costs about a tenth of
        the training time. The loader here is the same ``DataLoader``, with
        the same sampler and so the same random draws and the same batches,
        tensor for tensor; only their fetching changes. A custom
        ``dataset``, ``iterator_train`` or ``iterator_train__collate_fn``
        keeps skorch's loader.
        """
        kwargs = self.get_params_for("iterator_train")
        if not (
            training
            and isinstance(dataset, IndexedTrainingSet)
            and self.iterator_train is DataLoader
            and "collate_fn" not in kwargs
            and dataset.fetches_batches()
        ):
            return super().get_iterator(dataset, training=training)
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        return DataLoader(_BatchFetch(dataset), collate_fn=_collated, **kwargs)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self._dataset_train = None

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        self._dataset_train = dataset_train

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        # skorch has already read every batch loss with .item(): checking them
        # here costs no device synchronisation
        losses = [b.get("train_loss", 0.0) for b in self.history[-1]["batches"]]
        if not math.isfinite(math.fsum(losses)):
            batch = next(i for i, v in enumerate(losses) if not math.isfinite(v))
            raise TrainingDivergedError(
                f"Training diverged: the loss of epoch {len(self.history)}, "
                f"batch {batch + 1} is {losses[batch]}. {self._divergence_remedy}"
            )

    def on_train_end(self, net, X=None, y=None, **kwargs):
        super().on_train_end(net, X=X, y=y, **kwargs)
        self._parameter_list = None
        dataset, self._dataset_train = self._dataset_train, None
        if dataset is not None:
            self._record_members(dataset.X, dataset.y)
            if not np.isfinite(self.member_proba_).all():
                raise TrainingDivergedError(
                    f"Training diverged: after epoch {len(self.history)} the model "
                    f"outputs NaN or infinite values. {self._divergence_remedy}"
                )

    def _eval_logits(self, X):
        """Logits of the module in eval mode, in large batches, without gradient."""
        X = torch.as_tensor(X)
        was_training = self.module_.training
        self.module_.eval()
        try:
            with torch.no_grad():
                return torch.cat(
                    [
                        self.module_(X[i : i + _EVAL_CHUNK].to(self.device))
                        for i in range(0, len(X), _EVAL_CHUNK)
                    ]
                )
        finally:
            self.module_.train(was_training)

    def _record_members(self, X, y):
        """Keep the final model's outputs on its training records (see Attributes)."""
        logits = self._eval_logits(X)
        self.member_proba_ = torch.softmax(logits.float(), dim=1).cpu().numpy()
        self.member_labels_ = np.asarray(y, dtype=np.int64)

    def _check_logits(self, logits):
        """The module must return one logit per class."""
        if logits.dim() != 2 or logits.shape[1] != len(self.classes_):
            raise ValueError(
                f"The module returned outputs of shape {tuple(logits.shape)}: "
                f"{logits.shape[-1] if logits.dim() else 0} outputs for "
                f"{len(self.classes_)} classes. It must return one logit per class, "
                "shape (batch, n_classes); size its last layer from the data or "
                "pass module__n_classes."
            )

    def train_loss(self, logits, y, X, index):
        """The loss a training step minimises (subclass hook).

        Parameters
        ----------
        logits : tensor of shape (batch, n_classes)
        y : tensor of shape (batch,)
            Class indices.
        X : tensor
            The batch's features.
        index : tensor of shape (batch,)
            The records' positions in the training set.

        Returns
        -------
        scalar tensor
        """
        return self.get_loss(logits, y, X=X, training=True)

    def train_step_single(self, batch, **fit_params):
        """One gradient step on :meth:`train_loss`."""
        self._set_training(True)
        (Xi, index), yi = batch
        yi = yi.to(self.device)
        logits = self.infer(Xi, **fit_params)
        self._check_logits(logits)
        loss = self.train_loss(logits, yi, Xi, index)
        loss.backward()
        return {"loss": loss, "y_pred": logits}

    def on_grad_computed(self, net, named_parameters, batch=None, training=False,
                         **kwargs):
        # skorch calls this between the backward pass and the optimizer step,
        # before any callback's on_grad_computed (e.g. GradientNormClipping)
        super().on_grad_computed(
            net, named_parameters, batch=batch, training=training, **kwargs
        )
        if self._clips_gradients():
            self._clip_gradients()

    def _clips_gradients(self):
        """Whether a step's gradient is clipped (subclass hook)."""
        return self.clip_grad_norm is not None

    def _clip_gradients(self):
        """``clip_grad_norm_`` at :meth:`_clip_limit`, with the same result,
        minus a pass on the CPU.

        ``clip_grad_norm_`` always multiplies every gradient by the clamped
        coefficient (1 when no clipping is needed) so as not to synchronise a
        GPU. On the CPU reading the norm costs nothing, and the pass is skipped
        when it is within bounds (multiplying by 1 changes nothing).
        """
        params = [p for p in self._module_parameters() if p.grad is not None]
        if not params:
            return
        norm = _total_norm([p.grad for p in params])
        limit = self._clip_limit(norm)
        # a NaN norm is clipped too, as clip_grad_norm_ does
        if norm.device.type != "cpu" or not norm <= limit:
            torch.nn.utils.clip_grads_with_norm_(params, limit, norm, foreach=True)

    def _module_parameters(self):
        """The module's parameters, listed once per module (every step reads
        them; walking the module tree each time costs more than the list)."""
        cached = getattr(self, "_parameter_list", None)
        if cached is None or cached[0] is not self.module_:
            cached = self._parameter_list = (
                self.module_, list(self.module_.parameters())
            )
        return cached[1]

    def _clip_limit(self, norm):
        """This step's bound on the gradient norm ``norm`` (subclass hook):
        ``clip_grad_norm``, infinite when it is None."""
        return math.inf if self.clip_grad_norm is None else self.clip_grad_norm

    # -------------------------------------------------------------- prediction
    def _validate_query(self, X):
        check_is_fitted(self, "label_encoder_")
        if isinstance(X, TorchDataset):  # skorch's own scoring during fit
            return X
        X = validate_data(
            self, X, reset=False, dtype=(np.float32, np.float64), allow_nd=True
        )
        _check_float32_range(X)
        return X.astype(np.float32, copy=False)

    def forward_iter(self, X, training=False, device="cpu"):
        """Module outputs batch by batch (skorch's, faster on plain arrays).

        An ndarray queried for inference is cut into tensor slices of the
        prediction batch size (``iterator_valid__batch_size``, else
        ``batch_size``) instead of passing through a ``DataLoader`` record by
        record: the same batches and outputs, without the per-record Python
        cost that dominates attacks querying millions of perturbed copies.
        """
        if training or not isinstance(X, np.ndarray):
            yield from super().forward_iter(X, training=training, device=device)
            return
        size = self.get_params_for("iterator_valid").get("batch_size", self.batch_size)
        size = len(X) if size == -1 else size
        tensor = torch.from_numpy(np.ascontiguousarray(X))
        for start in range(0, len(X), max(size, 1)):
            batch = (tensor[start:start + size], None)
            yp = self.evaluation_step(batch, training=False)
            yield _to_device(yp, device)

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return super().predict_proba(self._validate_query(X))

    def predict_log_proba(self, X):
        """Log of the class probabilities: ``log_softmax`` of the logits.

        Computed from the logits in float64, so it stays finite and exact where
        :meth:`predict_proba` rounds to 0 or 1 (membership attacks such as
        LiRA read these values); ``exp`` of it matches :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of float64 of shape (n_samples, n_classes)
        """
        X = self._validate_query(X)
        chunks = [
            torch.log_softmax(logits.double(), dim=1).cpu().numpy()
            for logits in self.forward_iter(X, training=False)
        ]
        return np.concatenate(chunks, axis=0)

    def predict(self, X):
        """Most probable class label of each record.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    # ------------------------------------------------------------ persistence
    def __getstate__(self):
        state = super().__getstate__()
        for name in self._member_attributes + self._transient_attributes:
            state.pop(name, None)
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.non_deterministic = self.random_state is None
        return tags
