"""Label-only membership inference (Choquette-Choo et al., ICML 2021).

The target answers with labels only. Members sit in regions the model has fitted
around them, so they keep their label under small perturbations more often than
non-members (the paper's "data augmentation" attack). For each queried record
the attack draws ``n_perturbations`` perturbed copies, asks the target's
``predict`` for the record and every copy in one batched call, and scores the
record by the fraction of them (record included, as the paper's augmentation
set includes the identity) classified as its true label.

Perturbations, by the kind of data:

* **binary tabular features** (every value of the column in the population is
  0 or 1): each bit flips with probability ``flip_proba``;
* **continuous tabular features**: Gaussian noise of standard deviation
  ``noise_scale`` times the feature's spread (its standard deviation over the
  population);
* **images** (``X`` of ndim 3 ``(n, H, W)`` or 4 ``(n, C, H, W)``, channels
  first, or flat rows with ``image_shape``): a random horizontal flip (with
  ``hflip``) and a shift of up to ``max_shift`` pixels in each direction, the
  uncovered border filled with zeros.

The threshold on the score is calibrated on shadow models as for the threshold
attacks: each shadow model's scores on the population, members versus
non-members by its keep mask, at the best balanced accuracy
(:func:`~wsmooth.attacks._threshold.best_threshold`). As in the paper, the
perturbation size is tuned on the shadow models too: by default
(``"auto"``) the tabular attack tries the strengths of :data:`STRENGTHS`, the
image attack the shifts of :data:`IMAGE_SHIFTS`, and each keeps the one whose
calibrated threshold has the best balanced accuracy (a model trained without
augmentation may find any shift large, as a CNN on 8x8 digits does).

The functions here are pure: explicit arrays and ``predict`` callables in,
scores out. Randomness comes in independent streams of :data:`RNG_BLOCK`
records, so a record's perturbations depend on the seed and its position in the
query only, never on ``batch_size``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_params,
)

from ._methods import AttackMethod, register_method
from ._threshold import best_threshold

__all__ = [
    "LabelOnlyAttack",
    "feature_kinds",
    "label_only_scores",
    "perturb_images",
    "perturb_tabular",
]

#: Records per independent random stream.
RNG_BLOCK = 256

#: (flip_proba, noise_scale) pairs tried by ``"auto"`` on tabular data.
STRENGTHS = ((0.005, 0.03), (0.02, 0.1), (0.05, 0.3), (0.1, 1.0))

#: Largest image shifts tried by ``max_shift="auto"``.
IMAGE_SHIFTS = (0, 1, 2)


def feature_kinds(X):
    """Which columns are binary, and every column's spread.

    Parameters
    ----------
    X : array-like of shape (n_records, n_features)

    Returns
    -------
    binary : ndarray of bool of shape (n_features,)
        True where every value is 0 or 1.
    spread : ndarray of shape (n_features,)
        Standard deviation of each column.
    """
    X = np.asarray(X)
    X2 = X.reshape(X.shape[0], -1)
    binary = np.all((X2 == 0) | (X2 == 1), axis=0)
    return binary, X2.std(axis=0, dtype=np.float64)


def perturb_tabular(X, n_perturbations, *, binary, scale, flip_proba, rng):
    """Perturbed copies of tabular records.

    Parameters
    ----------
    X : ndarray of shape (n_records, n_features)
    n_perturbations : int
    binary : ndarray of bool of shape (n_features,)
        Columns whose bits are flipped; the others get Gaussian noise.
    scale : ndarray of shape (n_features,)
        Standard deviation of the noise of each continuous column.
    flip_proba : float
        Probability that each binary feature flips.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_records, n_perturbations, n_features)
    """
    n, d = X.shape
    binary = np.asarray(binary, dtype=bool)
    cont = ~binary
    dtype = X.dtype if not cont.any() else np.result_type(X.dtype, np.float32)
    out = np.repeat(X[:, None, :].astype(dtype, copy=False), n_perturbations, axis=1)
    if binary.any():
        flip = rng.random((n, n_perturbations, int(binary.sum()))) < flip_proba
        bits = out[..., binary]
        out[..., binary] = np.where(flip, 1 - bits, bits)
    if cont.any():
        noise = rng.standard_normal((n, n_perturbations, int(cont.sum())))
        out[..., cont] += (noise * np.asarray(scale)[cont]).astype(dtype)
    return out


def perturb_images(X, n_perturbations, *, max_shift, hflip, rng):
    """Flipped and shifted copies of images.

    Each copy is flipped horizontally with probability 1/2 (when ``hflip``)
    and then shifted by ``(dy, dx)``, each drawn uniformly from
    ``-max_shift..max_shift``; pixels shifted in from outside are 0.

    Parameters
    ----------
    X : ndarray of shape (n_records, C, H, W)
    n_perturbations : int
    max_shift : int
    hflip : bool
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_records, n_perturbations, C, H, W)
    """
    n, c, h, w = X.shape
    s = int(max_shift)
    padded = np.pad(X, ((0, 0), (0, 0), (s, s), (s, s)))
    dy = rng.integers(-s, s + 1, (n, n_perturbations))
    dx = rng.integers(-s, s + 1, (n, n_perturbations))
    flip = rng.random((n, n_perturbations)) < 0.5 if hflip else np.zeros((n, 1), bool)
    rows = np.arange(h) - dy[..., None] + s  # (n, P, H): out[r] = X[r - dy]
    base = np.arange(w)
    cols = np.where(flip[..., None], w - 1 - base, base) - dx[..., None] + s
    return padded[
        np.arange(n)[:, None, None, None, None],
        np.arange(c)[None, None, :, None, None],
        rows[:, :, None, :, None],
        cols[:, :, None, None, :],
    ]


def _seed(random_state):
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@validate_params(
    {
        "predict": [callable, list, tuple],
        "X": ["array-like"],
        "y": ["array-like"],
        "n_perturbations": [Interval(Integral, 0, None, closed="left")],
        "flip_proba": [Interval(Real, 0, 1, closed="both")],
        "noise_scale": [Interval(Real, 0, None, closed="left")],
        "binary": ["array-like", None],
        "spread": ["array-like", None],
        "image_shape": [tuple, list, None],
        "max_shift": [Interval(Integral, 0, None, closed="left")],
        "hflip": ["boolean"],
        "random_state": ["random_state"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def label_only_scores(
    predict,
    X,
    y,
    *,
    n_perturbations=16,
    flip_proba=0.02,
    noise_scale=0.1,
    binary=None,
    spread=None,
    image_shape=None,
    max_shift=1,
    hflip=True,
    random_state=None,
    batch_size=8192,
):
    """Fraction of each record and its perturbed copies predicted as its label.

    Parameters
    ----------
    predict : callable or list of callables
        ``predict(X) -> labels``, e.g. ``model.predict``; with a list, every
        model is asked about the *same* perturbed copies.
    X : array-like of shape (n_records, ...)
        Records: tabular rows, or images (ndim 3 ``(n, H, W)``, ndim 4
        ``(n, C, H, W)`` channels first, or flat rows with ``image_shape``).
    y : array-like of shape (n_records,)
        True labels, in the label space of ``predict``'s output.
    n_perturbations : int, default=16
        Perturbed copies per record (0 gives the correctness attack).
    flip_proba : float, default=0.02
        Bit-flip probability of binary features.
    noise_scale : float, default=0.1
        Noise of continuous features, in units of ``spread``.
    binary, spread : array-like of shape (n_features,), default=None
        Binary columns and column spreads (:func:`feature_kinds`); computed
        from ``X`` when None. Pass the population's to perturb every query
        alike.
    image_shape : tuple, default=None
        ``(H, W)`` or ``(C, H, W)``: reshape flat rows to images.
    max_shift : int, default=1
        Largest image shift, in pixels.
    hflip : bool, default=True
        Flip images horizontally at random.
    random_state : int, RandomState instance or None, default=None
    batch_size : int, default=8192
        Rows per ``predict`` call (whole blocks of :data:`RNG_BLOCK` records;
        the scores do not depend on it).

    Returns
    -------
    ndarray of shape (n_records,), or (n_models, n_records) for a list
        Values in ``{0, 1/(P+1), ..., 1}`` with ``P = n_perturbations``.
    """
    models = list(predict) if isinstance(predict, list | tuple) else [predict]
    if not all(callable(p) for p in models):
        raise ValueError("predict must be a callable or a list of callables")
    X = np.asarray(X)
    y = np.asarray(y).ravel()
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y have different lengths: {X.shape[0]} != {y.shape[0]}"
        )
    n = X.shape[0]
    image = image_shape is not None or X.ndim in (3, 4)
    if image:
        shape = tuple(image_shape) if image_shape is not None else X.shape[1:]
        if len(shape) not in (2, 3) or int(np.prod(shape)) != int(np.prod(X.shape[1:])):
            raise ValueError(
                f"image_shape {shape} does not fit records of shape {X.shape[1:]}: "
                "give (H, W) or (C, H, W) with C * H * W values per record"
            )
        images = X.reshape((n,) + ((1,) + shape if len(shape) == 2 else shape))
    else:
        X = X.reshape(n, -1)
        if binary is None or spread is None:
            kinds = feature_kinds(X)
            binary = kinds[0] if binary is None else binary
            spread = kinds[1] if spread is None else spread
        binary = np.asarray(binary, dtype=bool)
        scale = noise_scale * np.asarray(spread, dtype=np.float64)
        if binary.shape != (X.shape[1],) or scale.shape != (X.shape[1],):
            raise ValueError(
                f"binary and spread must have one entry per feature ({X.shape[1]})"
            )

    seed = _seed(random_state)
    copies = n_perturbations + 1
    blocks_per_call = max(1, batch_size // (RNG_BLOCK * copies))
    step = RNG_BLOCK * blocks_per_call
    counts = np.zeros((len(models), n), dtype=np.int64)
    for start in range(0, n, step):  # a loop over batches, not records
        parts = []
        for b0 in range(start, min(start + step, n), RNG_BLOCK):
            b1 = min(b0 + RNG_BLOCK, n)
            rng = np.random.default_rng([seed, b0 // RNG_BLOCK])
            if image:
                pert = perturb_images(
                    images[b0:b1], n_perturbations, max_shift=max_shift,
                    hflip=hflip, rng=rng,
                )
                orig = images[b0:b1, None]
            else:
                pert = perturb_tabular(
                    X[b0:b1], n_perturbations, binary=binary, scale=scale,
                    flip_proba=flip_proba, rng=rng,
                )
                orig = X[b0:b1, None]
            both = np.concatenate([orig.astype(pert.dtype, copy=False), pert], axis=1)
            parts.append(both.reshape((b1 - b0) * copies, *X.shape[1:]))
        batch = np.concatenate(parts)
        stop = min(start + step, n)
        labels = np.repeat(y[start:stop], copies)
        for m, model in enumerate(models):
            pred = np.asarray(model(batch)).ravel()
            if pred.shape[0] != labels.shape[0]:
                raise ValueError(
                    f"predict returned {pred.shape[0]} labels for "
                    f"{labels.shape[0]} records"
                )
            counts[m, start:stop] = (pred == labels).reshape(-1, copies).sum(axis=1)
    scores = counts / copies
    return scores if isinstance(predict, list | tuple) else scores[0]


@register_method("label_only")
class LabelOnlyAttack(AttackMethod):
    """Label-only attack (Choquette-Choo et al. 2021): robustness to perturbation.

    Use it as ``MembershipInferenceAttack(target, method="label_only",
    method_params={...})``. The target and the shadow models are queried
    through ``predict`` only, so the target needs no ``predict_proba``.

    Parameters
    ----------
    n_perturbations : int, default=16
        Perturbed copies per record.
    flip_proba : float or "auto", default="auto"
        Bit-flip probability of binary features.
    noise_scale : float or "auto", default="auto"
        Gaussian noise of continuous features, relative to each feature's
        standard deviation over the population. With ``"auto"`` (either or
        both), the strengths of :data:`STRENGTHS` are tried on the shadow
        models and the best calibrated one is kept (ties: the smaller).
    image_shape : tuple, default=None
        ``(H, W)`` or ``(C, H, W)`` to treat flat rows as images; records of
        ndim 3 or 4 are images anyway.
    max_shift : int or "auto", default="auto"
        Largest image shift, in pixels; ``"auto"`` tries the shifts of
        :data:`IMAGE_SHIFTS` on the shadow models (0: flips only) and keeps
        the best calibrated one.
    hflip : bool, default=True
        Random horizontal flips of images.
    batch_size : int, default=8192
        Rows per ``predict`` call.

    Attributes
    ----------
    flip_proba_, noise_scale_, max_shift_ : float, float, int
        The perturbation strengths used (tuned where ``"auto"``; the ones
        that do not apply to the data keep a placeholder).
    threshold_ : float
        Calibrated threshold on the score (fraction of copies kept).
    calibration_accuracy_ : float
        Balanced accuracy of that threshold on the shadow models.
    binary_, spread_ : ndarray
        Feature kinds and spreads of the population (tabular data).

    Notes
    -----
    The score is the fraction of the record and its copies that the model
    labels correctly, minus ``threshold_``. Perturbations are seeded from the
    attack's ``random_state``: a record's copies depend on its position in the
    query, so the same query gives the same scores.
    """

    requires_shadow_models = True
    #: Read by MembershipInferenceAttack: query the target through predict only.
    requires_proba = False

    _parameter_constraints = {
        "n_perturbations": [Interval(Integral, 0, None, closed="left")],
        "flip_proba": [Interval(Real, 0, 1, closed="both"), StrOptions({"auto"})],
        "noise_scale": [
            Interval(Real, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "image_shape": [tuple, list, None],
        "max_shift": [
            Interval(Integral, 0, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "hflip": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_perturbations=16,
        flip_proba="auto",
        noise_scale="auto",
        image_shape=None,
        max_shift="auto",
        hflip=True,
        batch_size=8192,
    ):
        self.n_perturbations = n_perturbations
        self.flip_proba = flip_proba
        self.noise_scale = noise_scale
        self.image_shape = image_shape
        self.max_shift = max_shift
        self.hflip = hflip
        self.batch_size = batch_size

    def scores(self, predict, X, y_labels, strength=None):
        """Raw scores (fraction kept) of ``predict`` on ``X`` with labels ``y``.

        ``strength`` is a ``(flip_proba, noise_scale, max_shift)`` triple;
        default the fitted one.
        """
        flip_proba, noise_scale, max_shift = strength or (
            self.flip_proba_, self.noise_scale_, self.max_shift_
        )
        return label_only_scores(
            predict,
            X,
            y_labels,
            n_perturbations=self.n_perturbations,
            flip_proba=flip_proba,
            noise_scale=noise_scale,
            binary=self.binary_,
            spread=self.spread_,
            image_shape=self.image_shape,
            max_shift=max_shift,
            hflip=self.hflip,
            random_state=self.random_state_,
            batch_size=self.batch_size,
        )

    def _strengths(self, image):
        """The (flip_proba, noise_scale, max_shift) triples to try, weakest first.

        Tabular data tune the first two, images the shift; the parameters
        that do not apply keep a placeholder value.
        """
        fixed = (self.flip_proba, self.noise_scale)
        if image:
            shifts = IMAGE_SHIFTS if self.max_shift == "auto" else (self.max_shift,)
            pair = tuple(
                STRENGTHS[1][i] if v == "auto" else v for i, v in enumerate(fixed)
            )
            return [(*pair, shift) for shift in shifts]
        grid = STRENGTHS if "auto" in fixed else STRENGTHS[:1]
        shift = IMAGE_SHIFTS[1] if self.max_shift == "auto" else self.max_shift
        tried = [
            (*(a if v == "auto" else v for a, v in zip(p, fixed, strict=True)), shift)
            for p in grid
        ]
        return list(dict.fromkeys(tried))

    def fit(
        self,
        proba,
        y,
        X=None,
        *,
        log_proba=None,
        shadow_proba=None,
        shadow_log_proba=None,
        keep_masks=None,
        shadows=None,
        target=None,
        random_state=0,
    ):
        """Tune the perturbation strength and the threshold on the shadows.

        Reads ``y``, the population ``X``, ``keep_masks``, ``shadows`` (their
        ``models``' ``predict`` scores perturbed copies of the population),
        ``target`` (its ``predict`` and ``classes_`` serve the queries) and
        ``random_state`` (the perturbations' seed); no probabilities. See
        :meth:`AttackMethod.fit`.
        """
        self._require(X=X, shadows=shadows, target=target)
        if not hasattr(target, "classes_"):
            raise ValueError(
                "LabelOnlyAttack.fit needs a fitted target with classes_ (the "
                "class indices in y refer to it)."
            )
        keep = self._check_shadow_arrays(y, keep_masks)
        y = np.asarray(y)
        X = np.asarray(X)
        self.classes_ = np.asarray(target.classes_)
        self.target_ = target
        self.random_state_ = random_state
        image = self.image_shape is not None or X.ndim in (3, 4)
        self.binary_, self.spread_ = (None, None) if image else feature_kinds(X)
        predicts = [m.predict for m in shadows.models]
        if len(predicts) != keep.shape[0]:
            raise ValueError(
                f"shadows holds {len(predicts)} models but keep_masks has "
                f"{keep.shape[0]} rows"
            )
        labels = self.classes_[y]
        best = None
        for strength in self._strengths(image):  # a few strengths, not records
            shadow = self.scores(predicts, X, labels, strength)
            t, acc = best_threshold(shadow.ravel(), keep.ravel())
            if best is None or acc > best[2]:
                best = (strength, t, acc)
        (self.flip_proba_, self.noise_scale_, self.max_shift_), t, acc = best
        self.threshold_, self.calibration_accuracy_ = t, acc
        return self

    def decision_function(self, proba, y, X, log_proba=None):
        return self.scores(self.target_.predict, X, self.classes_[y]) - self.threshold_
