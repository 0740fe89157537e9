"""Label-only membership inference (Choquette-Choo et al., ICML 2021).

The target answers with labels only. Members sit in regions the model has fitted
around them, so they keep their label under perturbations more often, and up to
larger perturbations, than non-members. For each queried record the attack
draws ``n_perturbations`` perturbed copies at each of several perturbation
*strengths*, asks the target's ``predict`` for the record and every copy in a
few batched calls, and counts, per strength, the copies classified as the
record's true label: a *robustness curve*. The score is a weighted sum of that
curve (the record itself included, as the paper's augmentation set includes
the identity), so it takes hundreds of distinct values and separates records at
low false-positive rates, where a fraction at one strength (a handful of
values) cannot.

Perturbations, by the kind of data, from the weakest strength to the strongest:

* **binary tabular features** (every value of the column in the population is
  0 or 1): each bit flips with probability ``flip_probas[k]``;
* **continuous tabular features**: Gaussian noise of standard deviation
  ``noise_scales[k]`` times the feature's spread (its standard deviation over
  the population);
* **images** (``X`` of ndim 3 ``(n, H, W)`` or 4 ``(n, C, H, W)``, channels
  first, or flat rows with ``image_shape``): a random horizontal flip (with
  ``hflip``) and a shift of up to ``max_shifts[k]`` pixels in each direction,
  the uncovered border filled with zeros.

The tabular strengths are coupled: copy ``j`` of a record draws one uniform
and one Gaussian number per feature, and at strength ``k`` flips the bits
whose uniform is below ``flip_probas[k]`` and adds the Gaussian times
``noise_scales[k]``. One draw serves every strength, and the curve is
monotone in the noise rather than noisy across strengths.

The weights of the curve and the threshold are tuned on the shadow models,
queried on the *same* perturbed copies of the population as one batch: with
``weights="learned"`` a logistic regression of membership on the curve over
all shadow rows (every shadow model's population records, members by its keep
mask) gives the direction, then the threshold of best balanced accuracy
(:func:`~wsmooth.attacks._calibration.best_threshold`) on the same rows;
``weights="equal"`` is the raw count. Neither needs a shadow left out: the
shadows only fix a direction and a threshold, as the threshold attacks do.

The functions here are pure: explicit arrays and ``predict`` callables in,
scores out. Randomness comes in independent streams of :data:`RNG_BLOCK`
records, so a record's perturbations depend on the seed and its position in the
query only, never on ``batch_size``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state

from ..utils._sklearn_compat import Interval, StrOptions, validate_params
from ._calibration import best_threshold
from ._methods import AttackMethod, register_method

__all__ = [
    "LabelOnlyAttack",
    "feature_kinds",
    "label_only_scores",
    "perturb_images",
    "perturb_tabular",
    "robustness_curves",
]

#: Records per independent random stream.
RNG_BLOCK = 64

#: Default bit-flip probabilities of binary features, weakest first.
FLIP_PROBAS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32)

#: Default Gaussian noise of continuous features (in units of each feature's
#: spread), paired with :data:`FLIP_PROBAS`.
NOISE_SCALES = (0.03, 0.06, 0.125, 0.25, 0.5, 1.0)

#: Default largest image shifts, in pixels (0: flips only).
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


def perturb_tabular(X, n_perturbations, *, binary, scales, flip_probas, rng, out=None):
    """Perturbed copies of tabular records at several coupled strengths.

    Copy ``j`` of a record draws one uniform ``u`` and one standard normal
    ``z`` per feature; at strength ``k`` binary features flip where
    ``u < flip_probas[k]`` and continuous ones get ``z * scales[k]``.

    Parameters
    ----------
    X : ndarray of shape (n_records, n_features)
    n_perturbations : int
        Copies per strength.
    binary : ndarray of bool of shape (n_features,)
        Columns whose bits are flipped; the others get Gaussian noise.
    scales : ndarray of shape (n_strengths, n_features)
        Standard deviation of the noise of each continuous column.
    flip_probas : sequence of float of length n_strengths
        Probability that each binary feature flips.
    rng : numpy.random.Generator
    out : ndarray of shape (n_records, n_strengths, n_perturbations, \
            n_features), default=None
        Where to write the copies (a view into a batch saves a copy).

    Returns
    -------
    ndarray of shape (n_records, n_strengths, n_perturbations, n_features)
    """
    n, d = X.shape
    k = len(flip_probas)
    binary = np.asarray(binary, dtype=bool)
    cont = ~binary
    if out is None:
        dtype = X.dtype if not cont.any() else np.result_type(X.dtype, np.float32)
        out = np.empty((n, k, n_perturbations, d), dtype=dtype)
    out[...] = X[:, None, None, :]
    probas = np.asarray(flip_probas, dtype=np.float32)[:, None, None]
    if binary.all():  # the common case: no column selection, no temporaries
        u = rng.random((n, 1, n_perturbations, d), dtype=np.float32)
        flipped = np.broadcast_to((1 - X)[:, None, None, :], out.shape)
        np.copyto(out, flipped, where=u < probas)
        return out
    if binary.any():
        u = rng.random((n, 1, n_perturbations, int(binary.sum())), dtype=np.float32)
        bits = out[..., binary]
        out[..., binary] = np.where(u < probas, 1 - bits, bits)
    if cont.any():
        z = rng.standard_normal(
            (n, 1, n_perturbations, int(cont.sum())), dtype=np.float32
        )
        s = np.asarray(scales, dtype=np.float32)[:, cont][None, :, None, :]
        out[..., cont] += (z * s).astype(out.dtype, copy=False)
    return out


def _shift(X, dy, dx, flip):
    """``X`` (n, C, H, W) flipped where ``flip`` and shifted by (dy, dx).

    ``dy``, ``dx`` and ``flip`` have shape (n, m); returns (n, m, C, H, W).
    """
    n, c, h, w = X.shape
    s = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    padded = np.pad(X, ((0, 0), (0, 0), (s, s), (s, s)))
    rows = np.arange(h) - dy[..., None] + s  # out[r] = X[r - dy]
    base = np.arange(w)
    cols = np.where(flip[..., None], w - 1 - base, base) - dx[..., None] + s
    return padded[
        np.arange(n)[:, None, None, None, None],
        np.arange(c)[None, None, :, None, None],
        rows[:, :, None, :, None],
        cols[:, :, None, None, :],
    ]


def perturb_images(X, n_perturbations, *, max_shifts, hflip, rng):
    """Flipped and shifted copies of images at several coupled strengths.

    Copy ``j`` is flipped horizontally with probability 1/2 (when ``hflip``,
    the same flip at every strength) and shifted by ``(dy, dx)``, each uniform
    on ``-s..s`` at strength ``s = max_shifts[k]`` (from one uniform draw per
    copy, so the shifts grow with ``s``); pixels shifted in from outside are 0.

    Parameters
    ----------
    X : ndarray of shape (n_records, C, H, W)
    n_perturbations : int
        Copies per strength.
    max_shifts : sequence of int of length n_strengths
    hflip : bool
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (n_records, n_strengths, n_perturbations, C, H, W)
    """
    n = X.shape[0]
    s = np.asarray(max_shifts, dtype=np.int64)[None, :, None]
    vy, vx = rng.random((2, n, 1, n_perturbations))
    dy = np.floor(vy * (2 * s + 1)).astype(np.int64) - s
    dx = np.floor(vx * (2 * s + 1)).astype(np.int64) - s
    flip = rng.random((n, 1, n_perturbations)) < 0.5
    if not hflip:
        flip[...] = False
    flip = np.broadcast_to(flip, dy.shape)
    m = dy.shape[1] * n_perturbations
    out = _shift(X, dy.reshape(n, m), dx.reshape(n, m), flip.reshape(n, m))
    return out.reshape(n, len(max_shifts), n_perturbations, *X.shape[1:])


def _seed(random_state):
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _ladder(values, name, integral=False):
    """A non-empty tuple of strengths, checked."""
    try:
        out = tuple(values)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of strengths, got {values!r}")
    kind = Integral if integral else Real
    if not out or not all(
        isinstance(v, kind) and not isinstance(v, bool) and v >= 0 for v in out
    ):
        raise ValueError(
            f"{name} must be a non-empty sequence of non-negative "
            f"{'integers' if integral else 'numbers'}, got {values!r}"
        )
    if name == "flip_probas" and max(out) > 1:
        raise ValueError(f"flip_probas must lie in [0, 1], got {values!r}")
    return out


@validate_params(
    {
        "predict": [callable, list, tuple],
        "X": ["array-like"],
        "y": ["array-like"],
        "n_perturbations": [Interval(Integral, 1, None, closed="left")],
        "flip_probas": [list, tuple, None],
        "noise_scales": [list, tuple, None],
        "max_shifts": [list, tuple, None],
        "binary": ["array-like", None],
        "spread": ["array-like", None],
        "image_shape": [tuple, list, None],
        "hflip": ["boolean"],
        "random_state": ["random_state"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def robustness_curves(
    predict,
    X,
    y,
    *,
    n_perturbations=16,
    flip_probas=None,
    noise_scales=None,
    max_shifts=None,
    binary=None,
    spread=None,
    image_shape=None,
    hflip=True,
    random_state=None,
    batch_size=65536,
):
    """Per record and strength, how many perturbed copies keep the true label.

    Parameters
    ----------
    predict : callable or list of callables
        ``predict(X) -> labels``, e.g. ``model.predict``; with a list, every
        model is asked about the *same* perturbed copies, in the same calls.
    X : array-like of shape (n_records, ...)
        Records: tabular rows, or images (ndim 3 ``(n, H, W)``, ndim 4
        ``(n, C, H, W)`` channels first, or flat rows with ``image_shape``).
    y : array-like of shape (n_records,)
        True labels, in the label space of ``predict``'s output.
    n_perturbations : int, default=16
        Perturbed copies per record and strength.
    flip_probas : sequence of float, default=None
        Bit-flip probabilities of binary features, one per strength;
        :data:`FLIP_PROBAS` when None.
    noise_scales : sequence of float, default=None
        Noise of continuous features, in units of ``spread``, paired with
        ``flip_probas`` (same length); :data:`NOISE_SCALES` when None.
    max_shifts : sequence of int, default=None
        Largest image shifts, in pixels, one per strength (images only);
        :data:`IMAGE_SHIFTS` when None.
    binary, spread : array-like of shape (n_features,), default=None
        Binary columns and column spreads (:func:`feature_kinds`); computed
        from ``X`` when None. Pass the population's to perturb every query
        alike.
    image_shape : tuple, default=None
        ``(H, W)`` or ``(C, H, W)``: reshape flat rows to images.
    hflip : bool, default=True
        Flip images horizontally at random.
    random_state : int, RandomState instance or None, default=None
    batch_size : int, default=65536
        Largest number of rows per ``predict`` call (at least one block of
        :data:`RNG_BLOCK` records and their copies; the counts do not depend
        on it).

    Returns
    -------
    ndarray of int of shape (n_records, 1 + n_strengths), or \
            (n_models, n_records, 1 + n_strengths) for a list
        Column 0: 1 if the record itself is classified correctly; column
        ``1 + k``: copies at strength ``k`` classified correctly (0 to
        ``n_perturbations``).
    """
    models = list(predict) if isinstance(predict, list | tuple) else [predict]
    if not models or not all(callable(p) for p in models):
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
        shifts = _ladder(IMAGE_SHIFTS if max_shifts is None else max_shifts,
                         "max_shifts", integral=True)
        n_strengths = len(shifts)
    else:
        X = X.reshape(n, -1)
        flips = _ladder(FLIP_PROBAS if flip_probas is None else flip_probas,
                        "flip_probas")
        noises = _ladder(NOISE_SCALES if noise_scales is None else noise_scales,
                         "noise_scales")
        if len(flips) != len(noises):
            raise ValueError(
                f"flip_probas and noise_scales are paired strengths and must "
                f"have the same length: {len(flips)} != {len(noises)}"
            )
        if binary is None or spread is None:
            kinds = feature_kinds(X)
            binary = kinds[0] if binary is None else binary
            spread = kinds[1] if spread is None else spread
        binary = np.asarray(binary, dtype=bool)
        spread = np.asarray(spread, dtype=np.float64)
        if binary.shape != (X.shape[1],) or spread.shape != (X.shape[1],):
            raise ValueError(
                f"binary and spread must have one entry per feature ({X.shape[1]})"
            )
        scales = np.asarray(noises)[:, None] * spread[None, :]
        n_strengths = len(flips)

    seed = _seed(random_state)
    copies = 1 + n_strengths * n_perturbations
    blocks_per_call = max(1, batch_size // (RNG_BLOCK * copies))
    step = RNG_BLOCK * blocks_per_call
    counts = np.zeros((len(models), n, 1 + n_strengths), dtype=np.int64)
    for start in range(0, n, step):  # a loop over batches, not records
        stop = min(start + step, n)
        src = images if image else X
        dtype = src.dtype
        if not image and not binary.all():
            dtype = np.result_type(dtype, np.float32)
        batch = np.empty(((stop - start) * copies, *src.shape[1:]), dtype=dtype)
        view = batch.reshape(stop - start, copies, -1)
        for b0 in range(start, stop, RNG_BLOCK):
            b1 = min(b0 + RNG_BLOCK, n)
            rng = np.random.default_rng([seed, b0 // RNG_BLOCK])
            rows = view[b0 - start:b1 - start]
            rows[:, 0] = src[b0:b1].reshape(b1 - b0, -1)
            if image:
                pert = perturb_images(
                    src[b0:b1], n_perturbations, max_shifts=shifts, hflip=hflip,
                    rng=rng,
                )
                rows[:, 1:] = pert.reshape(b1 - b0, copies - 1, -1)
            else:
                perturb_tabular(
                    src[b0:b1], n_perturbations, binary=binary, scales=scales,
                    flip_probas=flips, rng=rng,
                    out=rows[:, 1:].reshape(b1 - b0, n_strengths, n_perturbations, -1),
                )
        batch = batch.reshape(-1, *X.shape[1:])
        labels = np.repeat(y[start:stop], copies)
        for m, model in enumerate(models):
            pred = np.asarray(model(batch)).ravel()
            if pred.shape[0] != labels.shape[0]:
                raise ValueError(
                    f"predict returned {pred.shape[0]} labels for "
                    f"{labels.shape[0]} records"
                )
            kept = (pred == labels).reshape(stop - start, copies)
            counts[m, start:stop, 0] = kept[:, 0]
            counts[m, start:stop, 1:] = kept[:, 1:].reshape(
                stop - start, n_strengths, n_perturbations
            ).sum(axis=2)
    return counts if isinstance(predict, list | tuple) else counts[0]


def label_only_scores(predict, X, y, **kwargs):
    """Fraction of each record and its perturbed copies predicted as its label.

    The equally weighted robustness curve: :func:`robustness_curves` summed
    over the strengths (the record itself counted once), divided by the
    number of predictions. Takes the same arguments.

    Returns
    -------
    ndarray of shape (n_records,), or (n_models, n_records) for a list
        Values in ``{0, 1/T, ..., 1}`` with ``T = 1 + n_strengths *
        n_perturbations``.
    """
    curves = robustness_curves(predict, X, y, **kwargs)
    n_pert = kwargs.get("n_perturbations", 16)
    return curves.sum(axis=-1) / (1 + (curves.shape[-1] - 1) * n_pert)


@register_method("label_only")
class LabelOnlyAttack(AttackMethod):
    """Label-only attack (Choquette-Choo et al. 2021): a robustness curve.

    Use it as ``MembershipInferenceAttack(target, method="label_only",
    method_params={...})``. The target and the shadow models are queried
    through ``predict`` only, so the target needs no ``predict_proba``.

    Each record is scored by a weighted count of its perturbed copies that
    keep its true label, over several perturbation strengths
    (:func:`robustness_curves`).

    Parameters
    ----------
    n_perturbations : int, default=32
        Perturbed copies per record and strength. The default (32 copies at
        6 strengths, 193 predictions per record) was chosen by measurement
        (``benchmarks/label_only_strength.py``): against an undefended MLP on
        50-class binary data, 16 copies lost half the true-positive rate at
        1% false positives of a 336-copy reference score, 24 a third, 32
        none, with an AUC 0.01 higher than 16.
    flip_probas : sequence of float, default=None
        Bit-flip probabilities of binary features, weakest first;
        :data:`FLIP_PROBAS` (0.005 to 0.16, doubling) when None.
    noise_scales : sequence of float, default=None
        Gaussian noise of continuous features, relative to each feature's
        standard deviation over the population, paired with ``flip_probas``;
        :data:`NOISE_SCALES` (0.03 to 1) when None.
    max_shifts : sequence of int, default=None
        Largest image shifts, in pixels, one per strength; :data:`IMAGE_SHIFTS`
        (0, 1, 2) when None.
    weights : {"learned", "equal"}, default="learned"
        How the curve's counts are combined: ``"learned"``, by a logistic
        regression of membership on the curve over all shadow rows;
        ``"equal"``, the raw count.
    n_calibration : int or None, default=2000
        Population records (drawn at random, the same for every shadow model)
        on which the shadow models are queried to tune the weights and the
        threshold; None: all. A handful of weights and one threshold need no
        more, and the shadow queries are most of the cost of ``fit``.
    image_shape : tuple, default=None
        ``(H, W)`` or ``(C, H, W)`` to treat flat rows as images; records of
        ndim 3 or 4 are images anyway.
    hflip : bool, default=True
        Random horizontal flips of images.
    batch_size : int, default=65536
        Largest number of rows per ``predict`` call (memory bound).

    Attributes
    ----------
    weights_ : ndarray of shape (1 + n_strengths,)
        Weight of the record's own correctness and of each strength's count
        (as a fraction of ``n_perturbations``).
    threshold_ : float
        Calibrated threshold on the weighted score.
    calibration_accuracy_ : float
        Balanced accuracy of that threshold on the shadow rows.
    binary_, spread_ : ndarray
        Feature kinds and spreads of the population (tabular data).

    Notes
    -----
    The score is ``curve @ weights_ - threshold_``. Perturbations are seeded
    from the attack's ``random_state``: a record's copies depend on its
    position in the query, so the same query gives the same scores. Cost:
    ``1 + n_strengths * n_perturbations`` predictions per record, per shadow
    model on ``n_calibration`` population records in ``fit`` (all shadows
    answer the same batches) and for the target per query.
    """

    requires_shadow_models = True
    #: Read by MembershipInferenceAttack: query the target through predict only.
    requires_proba = False

    _parameter_constraints = {
        "n_perturbations": [Interval(Integral, 1, None, closed="left")],
        "flip_probas": [list, tuple, None],
        "noise_scales": [list, tuple, None],
        "max_shifts": [list, tuple, None],
        "weights": [StrOptions({"learned", "equal"})],
        "n_calibration": [Interval(Integral, 2, None, closed="left"), None],
        "image_shape": [tuple, list, None],
        "hflip": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_perturbations=32,
        flip_probas=None,
        noise_scales=None,
        max_shifts=None,
        weights="learned",
        n_calibration=2000,
        image_shape=None,
        hflip=True,
        batch_size=65536,
    ):
        self.n_perturbations = n_perturbations
        self.flip_probas = flip_probas
        self.noise_scales = noise_scales
        self.max_shifts = max_shifts
        self.weights = weights
        self.n_calibration = n_calibration
        self.image_shape = image_shape
        self.hflip = hflip
        self.batch_size = batch_size

    def check_params(self, n_shadow):
        super().check_params(n_shadow)
        for name, integral in (
            ("flip_probas", False), ("noise_scales", False), ("max_shifts", True)
        ):
            if getattr(self, name) is not None:
                _ladder(getattr(self, name), name, integral)
        flips = FLIP_PROBAS if self.flip_probas is None else self.flip_probas
        noises = NOISE_SCALES if self.noise_scales is None else self.noise_scales
        if len(flips) != len(noises):
            raise ValueError(
                "flip_probas and noise_scales are paired strengths and must "
                f"have the same length: {len(flips)} != {len(noises)}"
            )

    def curves(self, predict, X, y_labels):
        """Robustness curves (:func:`robustness_curves`) at the attack's settings."""
        return robustness_curves(
            predict,
            X,
            y_labels,
            n_perturbations=self.n_perturbations,
            flip_probas=self.flip_probas,
            noise_scales=self.noise_scales,
            max_shifts=self.max_shifts,
            binary=self.binary_,
            spread=self.spread_,
            image_shape=self.image_shape,
            hflip=self.hflip,
            random_state=self.random_state_,
            batch_size=self.batch_size,
        )

    def _features(self, curves):
        """Curves as fractions: own correctness, then kept share per strength."""
        f = curves.astype(np.float64)
        f[..., 1:] /= self.n_perturbations
        return f

    def fit_signals(self, signals):
        """Tune the curve's weights and the threshold on the shadow models.

        Reads ``y``, the population ``X``, ``keep_masks``, ``shadows`` (their
        ``models``' ``predict`` labels perturbed copies of the population),
        ``target`` (its ``predict`` and ``classes_`` serve the queries) and
        ``random_state`` (the perturbations' seed); no probabilities. See
        :meth:`AttackMethod.fit_signals`.
        """
        y = signals.y
        X = signals.X
        keep_masks = signals.keep_masks
        shadows = signals.shadows
        target = signals.target
        random_state = signals.random_state
        self._require(X=X, shadows=shadows, target=target)
        if not hasattr(target, "classes_"):
            raise ValueError(
                "LabelOnlyAttack.fit needs a fitted target with classes_ (the "
                "class indices in y refer to it)."
            )
        self.check_params(keep_masks.shape[0] if keep_masks is not None else 1)
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
        rows = np.arange(len(y))
        if self.n_calibration is not None and self.n_calibration < len(y):
            rng = np.random.default_rng([_seed(random_state), 1])
            rows = np.sort(rng.choice(len(y), self.n_calibration, replace=False))
        feats = self._features(self.curves(predicts, X[rows], self.classes_[y[rows]]))
        feats = feats.reshape(-1, feats.shape[-1])
        member = keep[:, rows].ravel()
        self.weights_ = np.ones(feats.shape[1])
        if self.weights == "learned" and member.any() and not member.all():
            # a direction over all shadow rows; the intercept is the threshold's
            lr = LogisticRegression(C=1.0, max_iter=1000).fit(feats, member)
            if np.any(lr.coef_[0] != 0):
                w = lr.coef_[0]
                self.weights_ = w / np.abs(w).sum() * feats.shape[1]
        t, acc = best_threshold(feats @ self.weights_, member)
        self.threshold_, self.calibration_accuracy_ = t, acc
        return self

    def decision_function(self, proba, y, X, log_proba=None):
        feats = self._features(self.curves(self.target_.predict, X, self.classes_[y]))
        return feats @ self.weights_ - self.threshold_
