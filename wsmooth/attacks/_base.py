"""MembershipInferenceAttack: one estimator in front of every attack algorithm."""

import os
import warnings
from numbers import Integral

import joblib
import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import balanced_accuracy_score
from sklearn.utils import Bunch
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ..utils import check_log_proba, check_proba, class_index
from ..utils._sklearn_compat import HasMethods, Interval, StrOptions, _fit_context
from ._methods import (
    METHOD_NAMES,
    AttackMethod,
    AttackSignals,
    fit_method,
    get_method,
)
from ._shadow import (
    align_proba,
    derive_entropy,
    fit_shadow_models,
    model_log_proba,
)

__all__ = ["MembershipInferenceAttack"]

#: Each class of the population must have at least this many records, so that
#: every shadow model (trained on half of each class) sees at least 2 of them
#: and leaves at least 2 out for calibration.
MIN_RECORDS_PER_CLASS = 4


class _IntervalNotBool(Interval):
    """An :class:`Interval` of ints that refuses ``True``/``False``."""

    def is_satisfied_by(self, val):
        return not isinstance(val, bool) and super().is_satisfied_by(val)


def _row_codes(*arrays):
    """Integer code per row, equal codes for byte-identical rows (vectorised)."""
    n = [a.shape[0] for a in arrays]
    rows = [np.asarray(a).reshape(a.shape[0], -1) for a in arrays]
    dtype = np.result_type(*rows)
    rows = np.concatenate([r.astype(dtype, copy=False) for r in rows])
    if np.issubdtype(dtype, np.floating):
        rows = rows + dtype.type(0)  # -0.0 -> 0.0
    rows = np.ascontiguousarray(rows)
    void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1])))
    _, codes = np.unique(void.ravel(), return_inverse=True)
    return np.split(codes.ravel(), np.cumsum(n)[:-1])


def _record_codes(Xs, ys, n_classes):
    """Codes for (row, label) records: equal codes for identical records."""
    codes = _row_codes(*Xs)
    return [c.astype(np.int64) * n_classes + y for c, y in zip(codes, ys, strict=True)]


def _check_membership(membership):
    """``membership`` as 0/1 ints; ValueError for any other value."""
    raw = np.asarray(membership)
    if raw.ndim != 1:
        raise ValueError(
            f"membership must be a 1-D array of 0/1 (or True/False), got shape "
            f"{raw.shape}"
        )
    if raw.dtype.kind == "b":
        return raw.astype(int)
    if raw.dtype.kind in "iuf":
        ok = (raw == 0) | (raw == 1)
    else:
        ok = np.zeros(raw.shape, dtype=bool)
    if not ok.all():
        bad = np.unique(raw[~ok].astype(str))
        raise ValueError(
            "membership must hold only 0/1 (or True/False): 1 for records of "
            f"the target's training set, 0 otherwise; got {bad[:5].tolist()}"
        )
    return raw.astype(int)


class MembershipInferenceAttack(BaseEstimator):
    """Membership inference attack against a fitted classifier.

    The attacker holds a *population* of labelled records drawn from the same
    distribution as the target's training set but disjoint from it. ``fit``
    trains shadow models on halves of the population (when the method needs
    them) and calibrates the attack; ``decision_function`` then scores queried
    records, higher meaning "more likely a member of the target's training
    set". Every query method takes the records *and their true class labels*.

    Parameters
    ----------
    estimator : fitted classifier
        The target. It must be fitted and expose ``predict_proba`` and
        ``classes_`` (``predict`` instead of ``predict_proba`` for
        ``method="label_only"``); the attack never refits it.
    method : str or AttackMethod, default="mentr"
        The attack algorithm, by name or as an instance of one of the classes
        below (cloned before fitting, as scikit-learn's ``cv=`` objects; its
        own parameters then replace ``method_params``), e.g.
        ``method=RMIAAttack(online=False, trim=0.25)``:

        - ``"correctness"`` (:class:`CorrectnessAttack`): member if correctly
          classified (no shadow models);
        - ``"loss"``: global threshold on the cross-entropy loss;
        - ``"confidence"``, ``"entropy"``, ``"mentr"``: class-dependent
          thresholds on the true-class probability, the prediction entropy and
          the modified entropy (Song & Mittal, USENIX Security 2021); all four
          are :class:`ThresholdAttack` with another ``signal``;
        - ``"learned"`` (:class:`LearnedAttack`): an attack classifier on the
          shadow models' prediction vectors (Shokri et al. 2017);
        - ``"lira"`` (:class:`LiRAAttack`): the likelihood-ratio attack
          (Carlini et al. 2022), online or offline
          (``method_params={"online": False}``);
        - ``"rmia"`` (:class:`RMIAAttack`): the relative membership inference
          attack (Zarifzadeh et al. 2024), online or offline;
        - ``"quantile"`` (:class:`QuantileAttack`): the target's score minus
          its ``1 - alpha`` quantile over non-members, predicted per record
          by a quantile regressor fitted on the population (Bertran et al.
          2023); no shadow models;
        - ``"distill"`` (:class:`DistillationAttack`): the target's score
          minus that of a network distilled from the target's outputs on the
          population records of other folds; no shadow models;
        - ``"label_only"`` (:class:`LabelOnlyAttack`): robustness of the
          predicted label to small perturbations (Choquette-Choo et al. 2021);
          needs only ``predict``;
        - ``"risk"`` (:class:`PrivacyRiskAttack`): Song & Mittal's privacy risk
          score, the posterior probability of membership (see
          :func:`wsmooth.attacks.privacy_risk_score`).

        Further methods are added with
        :func:`wsmooth.attacks.register_method`.
    n_shadow : int, default=4
        Number of shadow models. They come in complementary pairs, each half
        of the population stratified by class, so every population record is
        a member of exactly ``n_shadow // 2`` of them.
    shadow_estimator : estimator, default=None
        Template for the shadow models; default: ``clone(estimator)``, the
        target's unfitted configuration. Each shadow gets its own seed.
    attack_classifier : classifier, default=None
        For ``method="learned"``: the attack classifier (cloned); default a
        small skorch MLP.
    method_params : dict, default=None
        Extra keyword arguments for the method (e.g. ``{"signal": "loss",
        "class_dependent": True}`` for the threshold methods).
    cache_dir : str, path-like or joblib.Memory, default=None
        Directory where finished shadow models are stored and reused (see
        :func:`wsmooth.attacks.fit_shadow_models`). skorch nets are stored as
        weights (safetensors) and scikit-learn estimators through skops with
        trusted types: loading them cannot run code.
    trust_cache : bool, default=False
        Whether everyone who can write to ``cache_dir`` is trusted. Only then
        are shadow models of other kinds cached, as pickles, and **loading a
        pickle runs whatever code the file holds**. Without it they are
        retrained on every run.
    random_state : int, RandomState instance or None, default=None
        Controls the population splits, the shadow models' seeds and the
        attack classifier's seed.
    n_jobs : int, default=None
        Shadow models trained (and queried) in parallel through joblib; an
        active ``joblib.parallel_backend`` (e.g. Dask) is honoured.
    verbose : int, default=0
        Show a progress bar for shadow training when > 0.

    Attributes
    ----------
    classes_ : ndarray
        The target's classes.
    method_ : AttackMethod
        The fitted algorithm.
    shadow_models_ : ShadowModels or None
        Fitted shadow models with their keep masks (None for methods without).
    variant_ : {"online", "offline"} or None
        The variant configured for LiRA and RMIA (None for other methods).
        Records outside the population are scored offline whatever it says:
        :meth:`query_variants` tells per record, and ``evaluate``'s report
        gives the counts (``variant``, ``variant_counts``).
    n_features_in_ : int
        Features seen in fit.

    Notes
    -----
    **What a fitted (and pickled) attack contains**: the target estimator,
    the shadow models with their keep masks and seeds (a shadow model may
    memorise the population records it trained on, as any model of its kind
    does, e.g. a k-NN holds them verbatim), per-population-record statistics of
    their outputs (LiRA's Gaussians, RMIA's reference probabilities), the
    quantile attack's regressors (fitted on the population), and for LiRA,
    RMIA and the quantile attack one 16-byte digest per population record to
    recognise queries, never the records themselves. In the pool protocol the population
    holds the target's members: treat a saved attack as you would the shadow
    models.

    Scores are centred on the calibrated threshold: ``predict`` is
    ``decision_function(X, y) >= 0``. For the threshold methods the score is
    ``s - t_c``, where ``s`` is the signal oriented so that higher means member
    (loss, entropy and modified entropy are negated) and ``t_c`` the threshold
    of the record's class, which keeps scores comparable across classes.

    Examples
    --------
    >>> mia = MembershipInferenceAttack(target, method="mentr", random_state=0)  # doctest: +SKIP
    >>> mia.fit(X_population, y_population)  # doctest: +SKIP
    >>> report = mia.evaluate(X_in, y_in, X_out, y_out)  # doctest: +SKIP
    """

    _parameter_constraints = {
        # predict alone suffices for label-only methods (checked in fit)
        "estimator": [HasMethods(["predict_proba"]), HasMethods(["predict"])],
        "method": [StrOptions(METHOD_NAMES), AttackMethod],
        "n_shadow": [_IntervalNotBool(Integral, 1, None, closed="left")],
        "shadow_estimator": [
            HasMethods(["fit", "predict_proba"]),
            HasMethods(["fit", "predict"]),
            None,
        ],
        "attack_classifier": [HasMethods(["fit", "predict_proba"]), None],
        "method_params": [dict, None],
        "cache_dir": [str, os.PathLike, joblib.Memory, None],
        "trust_cache": ["boolean"],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        method="mentr",
        n_shadow=4,
        shadow_estimator=None,
        attack_classifier=None,
        method_params=None,
        cache_dir=None,
        trust_cache=False,
        random_state=None,
        n_jobs=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.method = method
        self.n_shadow = n_shadow
        self.shadow_estimator = shadow_estimator
        self.attack_classifier = attack_classifier
        self.method_params = method_params
        self.cache_dir = cache_dir
        self.trust_cache = trust_cache
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ #
    # Validation helpers
    # ------------------------------------------------------------------ #
    def _check_target(self):
        target = self.estimator
        if hasattr(target, "fit"):
            try:
                check_is_fitted(target)
            except NotFittedError as exc:
                raise NotFittedError(
                    f"The target estimator {type(target).__name__} is not fitted: "
                    "MembershipInferenceAttack attacks an already fitted model. "
                    "Call its fit first."
                ) from exc
        if self._needs_proba() and not hasattr(target, "predict_proba"):
            raise TypeError(
                f"The target estimator {type(target).__name__} has no "
                f"predict_proba, which method={self.method!r} reads; use "
                "method='label_only' for a target that only predicts labels."
            )
        if not hasattr(target, "classes_"):
            raise TypeError(
                f"The target estimator {type(target).__name__} has no classes_: "
                "a fitted classifier is required."
            )
        return target

    def _encode(self, y, classes, what="y"):
        y = np.asarray(y)
        if y.ndim != 1:
            y = y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y
        if y.ndim != 1:
            raise ValueError(f"{what} must be 1-D class labels, got shape {y.shape}")
        try:
            idx = class_index(y, classes)
        except TypeError as exc:
            raise ValueError(
                f"{what} labels cannot be compared with the target's classes "
                f"{list(classes)}: {exc}"
            ) from exc
        if np.any(idx < 0):
            bad = np.unique(y[idx < 0])
            raise ValueError(
                f"{what} contains labels outside the target's classes_: "
                f"{bad[:10].tolist()}{' ...' if bad.size > 10 else ''} "
                f"(target classes: {list(classes)[:20]})"
            )
        return idx.astype(np.intp)

    def _cache_location(self):
        if isinstance(self.cache_dir, joblib.Memory):
            return self.cache_dir.location
        return self.cache_dir

    def _needs_proba(self):
        method = self.method
        method_cls = type(method) if isinstance(method, AttackMethod) else get_method(method)
        return getattr(method_cls, "requires_proba", True)

    def _target_proba(self, X):
        if not self._needs_proba():  # label-only: the target is asked for labels
            return None
        proba = check_proba(
            self.estimator.predict_proba(X),
            n_records=X.shape[0],
            n_classes=len(self.classes_),
            model="the target",
        )
        return align_proba(proba, self.classes_, self.classes_)

    def _target_log_proba(self, X):
        """The target's log-probabilities (``predict_log_proba`` if it has one)."""
        return check_log_proba(
            model_log_proba(self.estimator, X),
            n_records=len(X),
            n_classes=len(self.classes_),
            model="the target",
        )

    def _validate_query(self, X, y):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, allow_nd=True)
        check_consistent_length(X, y)
        return X, self._encode(y, self.classes_)

    # ------------------------------------------------------------------ #
    # Estimator API
    # ------------------------------------------------------------------ #
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Train the shadow models (if the method needs them) and calibrate.

        Parameters
        ----------
        X : array-like of shape (n_population, ...)
            The attacker's population, disjoint from the target's training set
            by the protocol. LiRA and RMIA online need shadow models trained
            with the queried records: there it is a pool that contains them
            (Carlini et al.'s setup; see ``wsmooth.attacks._lira``).
        y : array-like of shape (n_population,)
            Its true labels, all among the target's ``classes_``.

        Returns
        -------
        self
        """
        target = self._check_target()
        X, y = validate_data(self, X, y, allow_nd=True)
        n_in = getattr(target, "n_features_in_", None)
        if n_in is not None and X.ndim == 2 and X.shape[1] != n_in:
            raise ValueError(
                f"X has {X.shape[1]} features but the target was fitted on {n_in}"
            )
        self.classes_ = np.asarray(target.classes_)
        y_idx = self._encode(y, self.classes_)
        method = self._make_method()
        method_cls = type(method)
        entropy = derive_entropy(self.random_state)

        self.shadow_models_ = None
        shadows = keep = shadow_proba = shadow_log_proba = log_proba = None
        if method_cls.requires_shadow_models:
            self._check_population(y_idx)
            template = (
                clone(self.estimator)
                if self.shadow_estimator is None
                else clone(self.shadow_estimator)
            )
            shadows = self.shadow_models_ = fit_shadow_models(
                template,
                X,
                y,
                n_shadow=self.n_shadow,
                classes=self.classes_,
                random_state=entropy if self.random_state is not None else None,
                n_jobs=self.n_jobs,
                verbose=self.verbose,
                cache_dir=self._cache_location(),
                trust_cache=self.trust_cache,
            )
            keep = shadows.keep_masks
            if self._needs_proba():
                shadow_proba = shadows.predict_proba(X)
        # The target's outputs are checked before the shadows' log-probabilities.
        proba = self._target_proba(X)
        if method_cls.uses_log_proba:
            log_proba = self._target_log_proba(X)
            if shadows is not None:
                shadow_log_proba = shadows.predict_log_proba(X)
        signals = AttackSignals(
            y=y_idx,
            proba=proba,
            X=X,
            log_proba=log_proba,
            shadow_proba=shadow_proba,
            shadow_log_proba=shadow_log_proba,
            keep_masks=keep,
            shadows=shadows,
            target=target,
            random_state=entropy,
        )
        self.method_ = fit_method(method, signals)
        online = getattr(self.method_, "online", None)
        self.variant_ = None if online is None else ("online" if online else "offline")
        return self

    def _make_method(self):
        """The unfitted method, its parameters checked before shadow training."""
        if isinstance(self.method, AttackMethod):
            if self.method_params:
                raise ValueError(
                    "method_params applies to a method given by name; set the "
                    f"parameters on the {type(self.method).__name__} instance "
                    "instead."
                )
            if self.attack_classifier is not None:
                raise ValueError(
                    "attack_classifier applies to method='learned'; pass it to "
                    "LearnedAttack(attack_classifier=...) instead."
                )
            method = clone(self.method)
        else:
            method = get_method(self.method).from_attack(self)
        method.check_params(self.n_shadow)
        return method

    def _method_name(self):
        if isinstance(self.method, AttackMethod):
            return type(self.method).__name__
        return self.method

    def _check_population(self, y_idx):
        counts = np.bincount(y_idx, minlength=len(self.classes_))
        present = counts > 0
        small = present & (counts < MIN_RECORDS_PER_CLASS)
        if present.sum() < 2 or small.any():
            detail = (
                f"classes {self.classes_[small][:10].tolist()} have only "
                f"{counts[small][:10].tolist()} records"
                if small.any()
                else "it holds a single class"
            )
            raise ValueError(
                f"The population is too small for n_shadow={self.n_shadow} shadow "
                f"models: each trains on half of every class and is calibrated on "
                f"the other half, so every class present needs at least "
                f"{MIN_RECORDS_PER_CLASS} records and at least 2 classes are "
                f"needed; {detail}."
            )

    def decision_function(self, X, y):
        """Membership score of each record: higher = more likely a member.

        Scores are centred on the calibrated threshold (``>= 0``: member).

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
        y : array-like of shape (n_records,)
            True labels of the records, among the target's ``classes_``.

        Returns
        -------
        ndarray of shape (n_records,)
        """
        inputs = self.method_inputs(X, y)
        kwargs = {}
        if self.method_.uses_log_proba:
            kwargs["log_proba"] = inputs.log_proba
        scores = np.asarray(
            self.method_.decision_function(inputs.proba, inputs.y, inputs.X, **kwargs)
        )
        return scores.astype(np.float64, copy=False)

    def method_inputs(self, X, y):
        """The arrays the fitted method is queried with for the records ``(X, y)``.

        What :meth:`decision_function` passes to the method's own
        ``decision_function``; for methods with queries of their own (e.g.
        :meth:`PrivacyRiskAttack.risk <wsmooth.attacks.PrivacyRiskAttack.risk>`,
        which :func:`~wsmooth.attacks.privacy_risk_score` calls).

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
        y : array-like of shape (n_records,)
            True labels of the records, among the target's ``classes_``.

        Returns
        -------
        inputs : :class:`~sklearn.utils.Bunch`
            ``proba``: the target's probabilities on the records, columns in
            the order of ``classes_`` (None for label-only methods); ``y``:
            each record's index in ``classes_``; ``X``: the validated records;
            ``log_proba``: the target's log-probabilities for methods that
            read them (:attr:`AttackMethod.uses_log_proba`), else None.
        """
        X, y_idx = self._validate_query(X, y)
        proba = self._target_proba(X)
        log_proba = None
        if self.method_.uses_log_proba:
            log_proba = self._target_log_proba(X)
        return Bunch(proba=proba, y=y_idx, X=X, log_proba=log_proba)

    def query_variants(self, X, y):
        """Which variant of the attack scores each record.

        LiRA and RMIA score online only the records found in the population
        they were fitted on (same row, same label); the others, which no
        shadow model trained on, are scored offline.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
        y : array-like of shape (n_records,)

        Returns
        -------
        ndarray of str of shape (n_records,) or None
            ``"online"`` or ``"offline"`` per record; None for methods without
            variants.
        """
        X, y_idx = self._validate_query(X, y)
        variants = self.method_.query_variants(X, y_idx)
        return None if variants is None else np.asarray(variants, dtype=object)

    def predict(self, X, y):
        """1 for predicted members, 0 for non-members (``decision_function >= 0``)."""
        return (self.decision_function(X, y) >= 0).astype(int)

    def score(self, X, y, membership, sample_weight=None):
        """Balanced accuracy of :meth:`predict` on a labelled membership query.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
        y : array-like of shape (n_records,)
            True class labels of the records.
        membership : array-like of shape (n_records,)
            1 (or True) for records of the target's training set, else 0.
        sample_weight : array-like of shape (n_records,), default=None

        Returns
        -------
        float
        """
        membership = _check_membership(membership)
        check_consistent_length(X, y, membership)
        return float(
            balanced_accuracy_score(
                membership, self.predict(X, y), sample_weight=sample_weight
            )
        )

    def evaluate(
        self,
        X_members,
        y_members,
        X_nonmembers,
        y_nonmembers,
        *,
        fpr_levels=(0.001, 0.01),
        name=None,
        by_class=False,
    ):
        """Leakage figures on known members and non-members of the target.

        Parameters
        ----------
        X_members, y_members : array-like
            Records of the target's training set and their labels.
        X_nonmembers, y_nonmembers : array-like
            Records the target never saw (not from the population either).
        fpr_levels : sequence of float, default=(0.001, 0.01)
            FPR levels for ``tpr_at_fpr``.
        name : str, default=None
            Label of the report; default the method name.
        by_class : bool, default=False
            Return the figures class by class instead (a
            :class:`~wsmooth.metrics.ClassMembershipReport`, see
            :func:`~wsmooth.metrics.membership_report_by_class`).

        Returns
        -------
        wsmooth.metrics.MembershipReport
            ``auc``, ``balanced_accuracy`` (at the calibrated threshold),
            ``advantage``, ``tpr_at_fpr``, the ROC arrays and ``plot()``;
            a :class:`~wsmooth.metrics.ClassMembershipReport` with
            ``by_class=True``.

        Raises
        ------
        ValueError
            On mismatched lengths, or if a (row, label) record appears among
            both members and non-members.
        """
        from ..metrics import membership_report

        check_is_fitted(self)
        check_consistent_length(X_members, y_members)
        check_consistent_length(X_nonmembers, y_nonmembers)
        Xm, ym = self._validate_query(X_members, y_members)
        Xn, yn = self._validate_query(X_nonmembers, y_nonmembers)
        cm, cn = _record_codes([Xm, Xn], [ym, yn], len(self.classes_))
        shared = np.intersect1d(cm, cn)
        if shared.size:
            n_shared = int(np.isin(cm, shared).sum())
            raise ValueError(
                f"{n_shared} member record(s) also appear among the non-members "
                "(identical rows with identical labels); membership of such "
                "records is undefined. Remove the duplicates."
            )
        member_scores = self.decision_function(Xm, self.classes_[ym])
        nonmember_scores = self.decision_function(Xn, self.classes_[yn])
        variant, counts = self._variant_summary(Xm, ym, Xn, yn)
        if by_class:
            from ..metrics import membership_report_by_class

            return membership_report_by_class(
                member_scores,
                nonmember_scores,
                self.classes_[ym],
                self.classes_[yn],
                threshold=0.0,
                fpr_levels=fpr_levels,
                name=self._method_name() if name is None else name,
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = membership_report(
                member_scores,
                nonmember_scores,
                threshold=0.0,
                fpr_levels=fpr_levels,
                name=self._method_name() if name is None else name,
                variant=variant,
                variant_counts=counts,
            )
        for w in caught:  # point the user at their own call
            warnings.warn(w.message, w.category, stacklevel=2)
        if counts is not None and counts["members"] != counts["nonmembers"]:
            share = {
                group: c.get("online", 0) / max(sum(c.values()), 1)
                for group, c in counts.items()
            }
            if share["members"] != share["nonmembers"]:
                detail = "; ".join(
                    f"{group}: " + ", ".join(f"{n} {v}" for v, n in sorted(c.items()))
                    for group, c in counts.items()
                )
                warnings.warn(
                    f"Members and non-members were scored by different variants "
                    f"({detail}): the ROC compares "
                    "online scores of one group with offline scores of the "
                    "other, each centred on its own threshold. Query records of "
                    "the attack's pool only (wsmooth.attacks.pool_split), or "
                    "use online=False.",
                    UserWarning,
                    stacklevel=2,
                )
        return report

    def _variant_summary(self, Xm, ym, Xn, yn):
        """``(variant, counts)`` of an evaluation; ``(None, None)`` without."""
        vm = self.method_.query_variants(Xm, ym)
        vn = self.method_.query_variants(Xn, yn)
        if vm is None or vn is None:
            return None, None
        counts = {}
        for group, v in (("members", vm), ("nonmembers", vn)):
            names, n = np.unique(np.asarray(v, dtype=str), return_counts=True)
            counts[group] = dict(zip(names.tolist(), n.tolist(), strict=True))
        kinds = set(counts["members"]) | set(counts["nonmembers"])
        return (kinds.pop() if len(kinds) == 1 else "mixed"), counts
