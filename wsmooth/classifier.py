"""WeightedSmoothingClassifier: a skorch classifier trained with weighted smoothing."""

import warnings
from numbers import Integral, Real

import numpy as np
import torch

from . import _smoothing as ws
from ._clipping import RecentMedian
from ._net import NetClassifier, TrainingDivergedError
from ._noise_weight import auto_sigma
from ._warmup import SIGMA_TOL, noise_active, noise_never_starts
from .utils._sklearn_compat import Interval, StrOptions

__all__ = ["PAPER_SETTINGS", "WeightedSmoothingClassifier", "TrainingDivergedError"]

#: ``clip_grad_relative`` compares each step with the median of this many
#: previous steps, once at least ``RELATIVE_CLIP_MIN_STEPS`` have been seen.
RELATIVE_CLIP_WINDOW = 100
RELATIVE_CLIP_MIN_STEPS = 10

#: Fitted attributes derived from individual training records. They are left out
#: of pickles so that a saved model carries no per-member data.
MEMBER_ATTRIBUTES = (
    "vulnerability_weights_",
    "vulnerability_scores_",
    "ws_weights_",
    "ws_step_scores_",
    "member_proba_",
    "member_labels_",
)

#: Every weighted-smoothing option at the value of Tan et al.'s training loop
#: (ACSAC 2023), see :meth:`WeightedSmoothingClassifier.reference`.
PAPER_SETTINGS = {
    "weighting": "zscore",
    "vulnerability": "mentr",
    "noise_scale": "reference",
    "warmup_epochs": 4,
    "noise_huber": None,
    "refresh": "full",
    "clip_grad_norm": 10.0,
    "clip_grad_relative": None,
}


class WeightedSmoothingClassifier(NetClassifier):
    """Neural network classifier trained with weighted smoothing (WS).

    During training, Gaussian noise is added to the softmax output before the
    negative log-likelihood, scaled per record by ``|1 - w_i| * margin_i *
    sigma``, where ``w_i`` is the record's vulnerability weight (how much less
    confidently the model fits it than the rest of its class) refreshed every
    epoch. Confidently fitted records, the ones membership inference reads,
    get the most noise. Prediction is clean.

    The defaults are the configuration measured best on 10-, 50- and
    100-class tabular data and on digits: records weighed from the training
    step itself (``refresh="live"``), no noise for records the model gets
    wrong (``weighting="zscore_clipped"``) and each step's gradient norm
    bounded relative to the recent ones (``clip_grad_relative=3``). Unlike
    the paper's loop, no run of that screen collapsed, at no more cost
    (see the tuning guide). :meth:`reference` builds Tan et
    al.'s loop (ACSAC 2023) exactly, the reproduction.

    It is a skorch :class:`~skorch.NeuralNetClassifier`: ``module``,
    ``module__*``, ``optimizer``, ``lr``, ``max_epochs``, ``batch_size``,
    ``callbacks``, ``device`` and every other skorch parameter work as usual.
    The module must return logits. On :class:`~wsmooth.NetClassifier` (the
    undefended network) it changes only the loss of a training step
    (``train_loss``), refreshes the weights in its own epoch hooks and bounds
    the gradient norm (``clip_grad_norm``, ``clip_grad_relative``).

    Parameters
    ----------
    module : torch module class or instance, default=None
        ``None`` builds :class:`wsmooth.nets.MLP` (tanh, 1024-512-256-128) sized
        from the data. A module class whose constructor takes ``n_features`` /
        ``n_classes`` gets them from the data unless given as ``module__*``.
    sigma : float or "auto", default="auto"
        Noise weight (standard deviation of the Gaussian), >= 0. ``0`` trains
        the plain model. ``"auto"``: from the number of classes K, 0.6 on 10
        classes scaled by ``sqrt(10 / K)`` (0.19 on 100), the middle of the
        range the ``wsmooth`` command searches
        (:func:`wsmooth.experiments.ws_sigma_grid`): a setting that defends
        at a cost of a few points of accuracy on the data measured, not a
        tuned one. Search ``sigma`` on your data (see the tuning guide).
    weighting : {"zscore_clipped", "zscore", "minmax", "uniform"}, \
            default="zscore_clipped"
        ``"zscore"``: scores standardised within each class (reference).
        The noise multiplier ``|1 - w|`` then grows again for records with
        ``w > 1``, the hardest or misclassified ones.
        ``"zscore_clipped"``: the same, capped at ``w <= 1``: those records get
        no noise instead of more, which removes a feedback loop in which
        records the model gets wrong are the noisiest and stay wrong. It puts
        less noise in at a given ``sigma`` than ``"zscore"``: compare the two
        at equal leakage, not at equal ``sigma``.
        ``"minmax"``: rescaled into [0, 1] within each class, so noise falls
        monotonically from the most confident record to the most isolated.
        ``"uniform"``: ``w = 0``, plain smoothing noise (ablation).
    vulnerability : {"mentr", "loss", "cross_entropy"}, default="mentr"
        Vulnerability score, named as the membership signals the attacks and
        the leakage scorer take (``ThresholdAttack(signal=...)``): ``"mentr"``,
        the modified entropy (reference), or ``"loss"``, the cross-entropy
        loss. ``"cross_entropy"`` is an alias of ``"loss"``.
    noise_scale : {"reference", "class_invariant", "split"}, \
            default="reference"
        ``"reference"``: every class's noise has std ``sigma`` (Tan et al.), so
        the noise mass the true class competes with grows like ``K * sigma``
        and one ``sigma`` means different things on 10 and 100 classes.
        ``"class_invariant"``: std ``sigma / (K - 1)``, which keeps that mass
        independent of the number of classes K (equal to the reference on 2
        classes; reference ``sigma`` s on K classes is ``s * (K - 1)`` here),
        but it also shrinks the true class's own noise K-fold.
        ``"split"``: the true class keeps std ``sigma``, the other classes get
        ``sigma / (K - 1)``: the true class's own noise and the mass it
        competes with both stay independent of K.
    warmup_epochs : int, default=4
        Clean epochs before the noise starts (reference: 4).
    noise_huber : float or None, default=None
        Bound each record's gradient: below ``noise_huber / K`` the negative
        log of the projected true-class probability is continued linearly
        (partially Huberised NLL, Menon et al. 2020). The reference loss's
        gradient grows without bound as a record's noisy true-class entry
        nears zero, so single records can dominate a step. Bounding them
        steadies training, but also takes away part of the defence at a given
        ``sigma``, on many classes nearly all of it (at 1 on 50 classes the
        loss attack's AUC stayed within 0.005 of the undefended network's
        for every ``sigma`` from 0.1 to 0.8; see the tuning guide).
        ``None``: the reference.
    refresh : {"live", "full"}, default="live"
        ``"live"``: no extra pass; each record is scored from the (train-mode)
        logits of the very step that trains it, against its class's mean and
        spread from the scores the previous epoch's steps recorded.
        ``"full"``: before every noisy epoch, one batched eval-mode forward
        pass over the training set (reference).
    clip_grad_norm : float or None, default=10.0
        Gradient-norm clipping (reference: 10). ``None`` disables it.
    clip_grad_relative : float or None, default=3.0
        Also clip each step's gradient norm at this multiple of the median
        norm of the previous 100 steps (adaptive clipping, after AutoClip,
        Seetharaman et al. 2020). A fixed bound cannot follow the gradients
        as they shrink, and Adam turns one outlying step into a full-size
        update of every parameter it touches; see the tuning guide. It bounds
        the noisy epochs' steps; the warm-up's steps only fill the window, so
        that ``sigma=0`` trains the undefended network bit for bit.
        ``None``: the reference (only ``clip_grad_norm``).
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the noise. The same
        integer gives the same model, bit for bit on the CPU.
    criterion, optimizer, lr, max_epochs, batch_size, train_split, verbose
        skorch parameters, with defaults ``CrossEntropyLoss``, ``Adam``, ``1e-3``,
        ``30``, ``128``, ``None`` (every record passed to ``fit`` is trained on:
        members are members) and ``0``.
    **kwargs
        Any other skorch parameter (``iterator_train__shuffle`` defaults to True).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    n_features_in_ : int
    module_ : torch.nn.Module
        The trained network.
    sigma_ : float
        The noise weight trained with: ``sigma``, or the value ``"auto"``
        took.
    vulnerability_weights_ : ndarray of shape (n_samples,)
        Per-record weights of the last refresh (absent when no noisy epoch ran).
        Not pickled.
    member_proba_ : ndarray of shape (n_samples, n_classes)
        Clean predicted probabilities of the final model on its training records,
        and ``member_labels_`` their class indices: what
        :func:`wsmooth.metrics.make_membership_scorer` rates leakage from inside
        ``GridSearchCV``. Not pickled: a saved model carries no per-member data.
    history_ : skorch History

    Examples
    --------
    >>> from wsmooth import WeightedSmoothingClassifier
    >>> from wsmooth.datasets import make_purchase_like
    >>> X, y = make_purchase_like(n_samples=600, n_classes=5, random_state=0)
    >>> clf = WeightedSmoothingClassifier(sigma=0.1, max_epochs=6,
    ...                                   module__hidden_layer_sizes=(64,),
    ...                                   random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 5)
    """

    _parameter_constraints = {
        **NetClassifier._parameter_constraints,
        "sigma": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "weighting": [StrOptions(set(ws.WEIGHTINGS))],
        "vulnerability": [StrOptions(set(ws.SCORES))],
        "noise_scale": [StrOptions(set(ws.NOISE_SCALES))],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "noise_huber": [Interval(Real, 0, None, closed="neither"), None],
        "refresh": [StrOptions({"full", "live"})],
        "clip_grad_relative": [Interval(Real, 0, None, closed="neither"), None],
    }

    _member_attributes = MEMBER_ATTRIBUTES
    _transient_attributes = NetClassifier._transient_attributes + (
        "_noise_generator",
        "_class_statistics",
        "_recent_grad_norms",
    )
    _divergence_remedy = (
        "Lower lr or sigma, scale the features, or keep gradient clipping "
        "(clip_grad_norm)."
    )

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
        sigma="auto",
        weighting="zscore_clipped",
        vulnerability="mentr",
        noise_scale="reference",
        warmup_epochs=4,
        noise_huber=None,
        refresh="live",
        clip_grad_norm=10.0,
        clip_grad_relative=3.0,
        random_state=None,
        **kwargs,
    ):
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
            clip_grad_norm=clip_grad_norm,
            random_state=random_state,
            **kwargs,
        )
        self.sigma = sigma
        self.weighting = weighting
        self.vulnerability = vulnerability
        self.noise_scale = noise_scale
        self.warmup_epochs = warmup_epochs
        self.noise_huber = noise_huber
        self.refresh = refresh
        self.clip_grad_relative = clip_grad_relative

    @classmethod
    def reference(cls, **params):
        """The paper's training loop: every WS option as Tan et al. set it.

        The reproduction of ACSAC 2023's loop (:data:`PAPER_SETTINGS`: z-scored
        modified-entropy weights refreshed by a full pass before every noisy
        epoch, noise of std ``sigma`` on every class, 4 clean epochs, gradient
        norm clipped at 10, no relative clipping, no loss bounding), whatever
        the class's own defaults are.

        Parameters
        ----------
        **params
            Any other parameter (``sigma``, the network, ``max_epochs``,
            ``random_state``, ...); one of :data:`PAPER_SETTINGS` given here
            replaces the paper's value.

        Returns
        -------
        WeightedSmoothingClassifier
            Unfitted; an ordinary estimator (``clone`` and ``get_params``
            keep its settings).

        Examples
        --------
        >>> from wsmooth import WeightedSmoothingClassifier
        >>> clf = WeightedSmoothingClassifier.reference(sigma=0.2)
        >>> clf.refresh, clf.clip_grad_norm, clf.sigma
        ('full', 10.0, 0.2)
        """
        return cls(**{**PAPER_SETTINGS, **params})

    # ------------------------------------------------------------------ set-up
    def _fit_warnings(self, done_epochs):
        self._warn_if_noise_never_starts(done_epochs)

    def _warn_if_noise_never_starts(self, done_epochs):
        last = done_epochs + self.max_epochs
        if noise_never_starts(self._sigma_value(), last, self.warmup_epochs):
            shown = (
                repr(self.sigma) if isinstance(self.sigma, str) else f"{self.sigma:g}"
            )
            warnings.warn(
                f"sigma={shown} but max_epochs={self.max_epochs} <= "
                f"warmup_epochs={self.warmup_epochs}"
                + (f" - {done_epochs} epochs already trained" if done_epochs else "")
                + ": no epoch is trained with noise, so the model is the undefended "
                "one. Raise max_epochs or lower warmup_epochs.",
                UserWarning,
                stacklevel=5,
            )

    # --------------------------------------------------------------- training
    def fit(self, X, y, **fit_params):
        return super().fit(X, y, **fit_params)

    # the base class's documentation, plus the warning only WS gives
    fit.__doc__ = NetClassifier.fit.__doc__ + """
        Warns
        -----
        UserWarning
            If ``sigma > 0`` but ``max_epochs <= warmup_epochs``: no epoch would
            be trained with noise.
        """

    # WS's per-epoch work is the net's own, not a callback: it cannot be
    # switched off with ``callbacks__...=None`` or lost by replacing callbacks.
    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        self.sigma_ = self._sigma_value()
        self.ws_step_scores_ = None
        self._recent_grad_norms = RecentMedian(
            RELATIVE_CLIP_WINDOW, RELATIVE_CLIP_MIN_STEPS
        )
        device = torch.device(self.device) if self.device else torch.device("cpu")
        # own stream, apart from the global one that shuffles and initialises
        self._noise_generator = torch.Generator(device=device).manual_seed(
            self._seed(len(self.history)) ^ 0x5EED
        )

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(
            net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs
        )
        if self.noise_active(len(self.history) - 1):
            self.refresh_vulnerability_weights(dataset_train)
        if self.refresh == "live" and self.sigma_ > SIGMA_TOL:
            n = len(dataset_train)
            if self.ws_step_scores_ is None or len(self.ws_step_scores_) != n:
                self.ws_step_scores_ = torch.zeros(n, device=self.device)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._noise_generator = None
        weights = getattr(self, "ws_weights_", None)
        if weights is not None:
            self.vulnerability_weights_ = weights.detach().cpu().numpy()
        super().on_train_end(net, X=X, y=y, **kwargs)

    def noise_active(self, epoch):
        """Whether 0-based epoch ``epoch`` (counted over the whole history) is noisy."""
        return noise_active(self.sigma_, epoch, self.warmup_epochs)

    def _sigma_value(self):
        """The noise weight a fit trains with: ``sigma``, or for ``"auto"``
        the value the class count gives (:func:`wsmooth._noise_weight.auto_sigma`)."""
        if isinstance(self.sigma, str):
            return auto_sigma(len(self.classes_))
        return self.sigma

    def _noisy_epoch(self):
        """Whether the epoch being trained is noisy."""
        return self.noise_active(len(self.history) - 1)

    def noise_std(self):
        """Noise stds, the true class's and the others': ``sigma`` after the
        class scaling (``noise_scale``)."""
        return ws.class_noise_std(self.sigma_, len(self.classes_), self.noise_scale)

    def refresh_vulnerability_weights(self, dataset):
        """Recompute the per-record weights from the current model.

        Parameters
        ----------
        dataset : IndexedTrainingSet
            The training set.
        """
        y = torch.as_tensor(np.asarray(dataset.y), dtype=torch.long, device=self.device)
        # live: the scores the previous epoch's steps recorded; a full pass
        # before any step has recorded some (warmup_epochs=0, a new fit call)
        recorded = getattr(self, "ws_step_scores_", None)
        if self.refresh == "live" and recorded is not None and len(recorded) == len(y):
            scores = recorded.clone()
        else:
            scores = self._score_dataset(dataset.X, y)
        self.vulnerability_scores_ = scores.cpu().numpy()
        weights = ws.vulnerability_weights(
            scores, y, len(self.classes_), self.weighting
        )
        if self.refresh == "live":
            self._class_statistics = ws.class_statistics(
                scores, y, len(self.classes_), self.weighting
            )
        self.ws_weights_ = weights

    def _score_dataset(self, X, y):
        """Vulnerability scores from one eval-mode pass over the training set."""
        return ws.vulnerability_scores(self._eval_logits(X), y, self.vulnerability)

    def train_loss(self, logits, y, X, index):
        """The noisy loss after warm-up (:func:`wsmooth._smoothing.noisy_nll_loss`),
        the plain ``criterion`` before; with ``refresh="live"`` it also records
        each record's vulnerability score from these logits (in the noisy
        epochs and the warm-up epoch before them), from the softmax that the
        noisy loss takes.

        skorch still returns the clean logits as the step's ``y_pred``, so its
        epoch scores stay true.
        """
        if not self._noisy_epoch():
            loss = super().train_loss(logits, y, X, index)
            # the first noisy epoch weighs records from the scores of the
            # epoch before it; an earlier warm-up epoch's would be overwritten
            # unread (a new fit call starts without any)
            if self.refresh == "live" and self.noise_active(len(self.history)):
                self._record_step_scores(logits, y, index)
            return loss
        probs = None
        if self.refresh == "live":
            # one softmax for the scores and the loss
            detached = logits.detach()
            probs = torch.softmax(detached, dim=1)
            weights = ws.weights_from_statistics(
                self._record_step_scores(detached, y, index, probs),
                y,
                self._class_statistics,
                self.weighting,
            )
        else:
            weights = self.ws_weights_.index_select(0, index.to(self.device))
        true_std, other_std = self.noise_std()
        return ws.noisy_nll_loss(
            logits,
            y,
            weights,
            true_std,
            off_class_sigma=other_std,
            generator=self._noise_generator,
            huber=self.noise_huber,
            probs=probs,
        )

    def _clips_gradients(self):
        return super()._clips_gradients() or self.clip_grad_relative is not None

    def _clip_limit(self, norm):
        """This step's bound: ``clip_grad_norm`` and, on a noisy step with
        ``clip_grad_relative``, that multiple of the median of the previous
        steps' (unclipped) norms."""
        limit = super()._clip_limit(norm)
        if self.clip_grad_relative is None:
            return limit
        # the clean warm-up is clipped as the undefended network is (sigma=0
        # trains it bit for bit), but its norms fill the window that bounds
        # the first noisy steps; off the CPU, no host synchronisation
        if self._noisy_epoch():
            limit = self._recent_grad_norms.bound(limit, self.clip_grad_relative)
        self._recent_grad_norms.add(norm)
        return limit

    def _record_step_scores(self, logits, yi, index, probs=None):
        """Score the batch from its training logits (``probs``: their softmax,
        when the step has it) and keep each record's score for the next
        epoch's class statistics."""
        scores = ws.vulnerability_scores(
            logits.detach(), yi, self.vulnerability, probs=probs
        )
        self.ws_step_scores_[index.to(logits.device)] = scores
        return scores
