"""Calibration: the threshold search, and which shadows calibrate a pseudo-target.

Every calibration helper of the attacks lives here.

**The threshold search.** :func:`best_threshold` picks, on shadow members
versus shadow non-members, the threshold ``t`` on a "higher = member" score
that maximises the *balanced accuracy* ``(TPR + TNR) / 2`` of the rule "member
if score >= t" (Song & Mittal's criterion; with the half/half shadow splits
used here members and non-members are equally many, so it is also the plain
accuracy); :func:`class_thresholds` does so per class. The search is
exhaustive and vectorised: values are sorted once per class and the rates at
every distinct value come from cumulative sums.

**The leave-shadows-out rule.** The attacks that compare a target with shadow
(reference) models, LiRA and RMIA, tune and calibrate themselves on the
shadows: each shadow model in turn plays the target (a *pseudo-target*) and is
attacked with the other shadows as references; its keep mask says which of
its scores are members. The threshold, and any parameter tuned this way, is
then chosen on the pooled pseudo-target scores.

Which shadows count as "the other shadows" matters. The shadow models come in
complementary pairs (:func:`~wsmooth.attacks.make_keep_masks`: models ``2p``
and ``2p + 1`` train on the two halves of the population), so every record is
IN exactly half of them. Leave out the pseudo-target alone and each record's
count of IN and OUT models among the rest gives away its membership of the
pseudo-target: its partner is IN exactly where it is OUT. An attack that
reads those counts (LiRA's per-record Gaussians, whose means and spreads come
from 1 or 2 values more or fewer; RMIA's averages over them) then tells
members from non-members with no membership signal at all (pooled AUCs
from 0.34 to 0.70 for LiRA on pure noise, 0.44 for the offline RMIA with
``a = 1``), and the threshold and the tuned parameters are chosen on that
artefact. Leaving out the pseudo-target *with its complementary partner*
leaves whole pairs: every record is IN exactly as many of the remaining
shadows as it is OUT, whatever its membership of the pseudo-target.

* :func:`complementary_partners`: each shadow's partner, from the keep masks.
* :func:`calibration_shadows`: the shadows pseudo-target ``i`` is attacked
  with: every shadow but ``i`` and its partner.
* :func:`leave_shadows_out`: run a pseudo-target function over every shadow
  with that rule; what the attacks call.
* :func:`leave_shadows_out_threshold`: the threshold search over the pooled
  scores of every pseudo-target (LiRA's and RMIA's calibration).
"""

import numpy as np

__all__ = [
    "best_threshold",
    "calibration_shadows",
    "class_thresholds",
    "complementary_partners",
    "leave_shadows_out",
    "leave_shadows_out_threshold",
]


# --------------------------------------------------------------------------- #
# The threshold search
# --------------------------------------------------------------------------- #
def _check_scores(scores, membership):
    scores = np.asarray(scores, dtype=np.float64).ravel()
    membership = np.asarray(membership).ravel().astype(bool)
    if scores.shape != membership.shape:
        raise ValueError(
            f"scores and membership have different lengths: "
            f"{scores.shape[0]} != {membership.shape[0]}"
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite to calibrate a threshold")
    return scores, membership


def _grouped_best(scores, membership, groups, n_groups):
    """Best threshold per group, vectorised over records and groups.

    Returns ``thresholds, balanced_accuracy, valid`` (each of shape
    ``(n_groups,)``); ``valid`` is False for a group lacking members or
    non-members (its threshold is NaN there).
    """
    order = np.lexsort((scores, groups))
    s, g, m = scores[order], groups[order], membership[order]
    n = s.shape[0]
    n_mem = np.bincount(g, weights=m, minlength=n_groups)
    n_non = np.bincount(g, weights=~m, minlength=n_groups)
    valid = (n_mem > 0) & (n_non > 0)

    # Members / non-members of the same group strictly below position i.
    mem_before = np.cumsum(m) - m
    non_before = np.cumsum(~m) - ~m
    mem_offset = np.concatenate(([0.0], np.cumsum(n_mem)[:-1]))
    non_offset = np.concatenate(([0.0], np.cumsum(n_non)[:-1]))
    mem_below = mem_before - mem_offset[g]
    non_below = non_before - non_offset[g]

    # Candidate thresholds: each distinct value of a group (the rule
    # "score >= value" puts everything below it on the non-member side). The
    # first value of a group is the trivial "all members" rule (balanced
    # accuracy 0.5), which is also what "no members" scores.
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = g[1:] != g[:-1]
    first = new_group.copy()
    first[1:] |= s[1:] != s[:-1]
    cand = np.flatnonzero(first)
    gc = g[cand]
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (n_mem[gc] - mem_below[cand]) / n_mem[gc]
        tnr = non_below[cand] / n_non[gc]
    objective = np.where(valid[gc], 0.5 * (tpr + tnr), -np.inf)

    # The threshold placed midway between the candidate and the previous
    # distinct value of its group, so it generalises symmetrically.
    value = s[cand]
    prev = np.where(new_group[cand], value, s[np.maximum(cand - 1, 0)])
    mid = prev + 0.5 * (value - prev)
    mid = np.where(mid > prev, mid, value)  # adjacent floats: keep the value

    # Per group, the best candidate; ties go to the lowest threshold.
    pick = np.lexsort((cand, -objective, gc))
    gp = gc[pick]
    head = np.ones(pick.shape[0], dtype=bool)
    head[1:] = gp[1:] != gp[:-1]
    best = pick[head]
    thresholds = np.full(n_groups, np.nan)
    accuracy = np.full(n_groups, np.nan)
    thresholds[gc[best]] = mid[best]
    accuracy[gc[best]] = objective[best]
    thresholds[~valid] = np.nan
    accuracy[~valid] = np.nan
    return thresholds, accuracy, valid


def best_threshold(scores, membership):
    """The threshold maximising balanced accuracy of ``scores >= threshold``.

    Parameters
    ----------
    scores : array-like of shape (n_records,)
        "Higher = member" scores.
    membership : array-like of bool of shape (n_records,)
        True for members.

    Returns
    -------
    threshold : float
    balanced_accuracy : float
        Its balanced accuracy on the calibration data.
    """
    scores, membership = _check_scores(scores, membership)
    if membership.all() or not membership.any():
        raise ValueError("calibration needs both members and non-members")
    t, acc, _ = _grouped_best(scores, membership, np.zeros(len(scores), int), 1)
    return float(t[0]), float(acc[0])


def class_thresholds(scores, membership, classes, n_classes):
    """Song & Mittal's class-dependent thresholds.

    For each class ``c``, the threshold maximising the balanced accuracy of
    ``scores >= t`` on the records of class ``c``. A class without both members
    and non-members in the calibration data falls back to the global threshold
    (:func:`best_threshold` on all records).

    Parameters
    ----------
    scores : array-like of shape (n_records,)
    membership : array-like of bool of shape (n_records,)
    classes : array-like of int of shape (n_records,)
        Class index of each record, in ``range(n_classes)``.
    n_classes : int

    Returns
    -------
    thresholds : ndarray of shape (n_classes,)
    fallback : ndarray of bool of shape (n_classes,)
        True where the global threshold was used.
    """
    scores, membership = _check_scores(scores, membership)
    classes = np.asarray(classes).ravel().astype(np.intp)
    if classes.shape != scores.shape:
        raise ValueError("classes must have the same length as scores")
    if classes.size and (classes.min() < 0 or classes.max() >= n_classes):
        raise ValueError(f"class indices must lie in range({n_classes})")
    thresholds, _, valid = _grouped_best(scores, membership, classes, n_classes)
    if not valid.all():
        thresholds[~valid] = best_threshold(scores, membership)[0]
    return thresholds, ~valid


# --------------------------------------------------------------------------- #
# The leave-shadows-out rule
# --------------------------------------------------------------------------- #


def _check_masks(in_masks):
    keep = np.asarray(in_masks)
    if keep.ndim != 2:
        raise ValueError(
            f"in_masks must have shape (n_shadow, n_population); got {keep.shape}"
        )
    if keep.dtype != bool:
        raise ValueError(
            f"in_masks must be boolean (True: the shadow trained on the record); "
            f"got dtype {keep.dtype}"
        )
    return keep


def complementary_partners(in_masks):
    """Each shadow's complementary partner: the shadow trained on the other half.

    Two shadows are partners when the IN set of one is exactly the OUT set of
    the other. Shadows are matched in order, each with the first shadow still
    unmatched whose mask is its complement, and the matching is mutual
    (``partners[partners[i]] == i``). With the keep masks of
    :func:`~wsmooth.attacks.make_keep_masks` the partners are ``2p`` and
    ``2p + 1``.

    A shadow gets *one* partner even when several shadows have its
    complementary mask (repeated halves): leaving them all out would leave
    the copies of its own mask alone, the very imbalance the rule avoids,
    whereas one matched pair at a time leaves whole pairs.

    A shadow without an exact complement gets ``-1``: the last model of an
    odd ``n_shadow``, or keep masks not made in pairs. It is then left out
    alone (:func:`calibration_shadows`). That is sound as long as its mask is
    drawn independently of the others' (as the halves of different pairs
    are): the other shadows' IN counts then do not depend on its members.
    Conversely, a shadow whose partner is unmatched is attacked with the
    unmatched shadow among its references, whose membership is independent
    of its own.

    Parameters
    ----------
    in_masks : ndarray of bool of shape (n_shadow, n_population)
        ``in_masks[s, r]`` is True if shadow ``s`` trained on record ``r``
        (the attacks' ``keep_masks``).

    Returns
    -------
    partners : ndarray of int of shape (n_shadow,)
        ``partners[i]`` is the index of shadow ``i``'s partner, ``-1`` where
        it has none.

    Examples
    --------
    >>> import numpy as np
    >>> from wsmooth.attacks._calibration import complementary_partners
    >>> keep = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0]], dtype=bool)
    >>> complementary_partners(keep)
    array([ 1,  0, -1])
    """
    keep = _check_masks(in_masks)
    n_shadow = keep.shape[0]
    partners = np.full(n_shadow, -1, dtype=np.intp)
    own = [row.tobytes() for row in np.packbits(keep, axis=1)]
    complement = [row.tobytes() for row in np.packbits(~keep, axis=1)]
    waiting = {}  # mask -> unmatched shadows with that mask, in order
    for i in range(n_shadow):  # a loop over models, not records
        candidates = waiting.get(complement[i])
        if candidates:
            j = candidates.pop(0)
            partners[i], partners[j] = j, i
        else:
            waiting.setdefault(own[i], []).append(i)
    return partners


def calibration_shadows(i, partners):
    """The shadows that pseudo-target ``i`` may be attacked (calibrated) with.

    Every shadow but ``i`` and its complementary partner (``partners[i]``,
    absent when ``-1``): see the module notes for why the partner goes too.

    Parameters
    ----------
    i : int
        The shadow playing the target.
    partners : ndarray of int of shape (n_shadow,)
        :func:`complementary_partners` of the keep masks.

    Returns
    -------
    ndarray of int
        Indices of the calibration shadows, ascending; empty when none is
        left (two shadows: one pair).

    Examples
    --------
    >>> import numpy as np
    >>> from wsmooth.attacks import make_keep_masks
    >>> from wsmooth.attacks._calibration import (
    ...     calibration_shadows, complementary_partners)
    >>> partners = complementary_partners(make_keep_masks(10, 5, random_state=0))
    >>> calibration_shadows(0, partners), calibration_shadows(4, partners)
    (array([2, 3, 4]), array([0, 1, 2, 3]))
    """
    partners = np.asarray(partners)
    n_shadow = partners.shape[0]
    if not 0 <= int(i) < n_shadow:
        raise ValueError(f"shadow {i} out of range for {n_shadow} shadow models")
    others = np.ones(n_shadow, dtype=bool)
    others[i] = False
    if partners[i] >= 0:
        others[partners[i]] = False
    return np.flatnonzero(others)


def leave_shadows_out(in_masks, pseudo_target):
    """Attack each shadow in turn with its calibration shadows.

    Parameters
    ----------
    in_masks : ndarray of bool of shape (n_shadow, n_population)
        The keep masks.
    pseudo_target : callable
        ``pseudo_target(i, others)`` returns ``(scores, membership)`` of the
        records when shadow ``i`` is attacked with the shadows ``others``
        (:func:`calibration_shadows`, never empty), or None to skip it.

    Returns
    -------
    list of tuple
        The ``(scores, membership)`` of every shadow that gave one, in order;
        empty when the shadows are too few to leave any (two).
    """
    keep = _check_masks(in_masks)
    partners = complementary_partners(keep)
    runs = []
    for i in range(keep.shape[0]):
        others = calibration_shadows(i, partners)
        if others.size == 0:
            continue
        out = pseudo_target(i, others)
        if out is not None:
            runs.append(out)
    return runs


def leave_shadows_out_threshold(in_masks, pseudo_target, default):
    """The threshold calibration shared by the shadow-model attacks.

    Each shadow model in turn plays the target, attacked with the shadows
    :func:`calibration_shadows` allows (all but it and its complementary
    partner), through :func:`leave_shadows_out`. The threshold maximising
    balanced accuracy over all of their scores (:func:`best_threshold`;
    non-finite scores left out) is returned.

    Parameters
    ----------
    in_masks : ndarray of bool of shape (n_shadow, n_population)
        The keep masks.
    pseudo_target : callable
        ``pseudo_target(s, others)`` returns the scores of the population
        records when shadow ``s`` is attacked with the shadows ``others``, and
        their membership of ``s`` (or None to skip it).
    default : float
        Returned when the shadows are too few to give both members and
        non-members.

    Returns
    -------
    float
    """
    scores, labels = [], []
    for out in leave_shadows_out(in_masks, pseudo_target):
        sc, lab = np.asarray(out[0], dtype=np.float64), np.asarray(out[1], bool)
        valid = np.isfinite(sc)
        scores.append(sc[valid])
        labels.append(lab[valid])
    if not scores:
        return default
    scores, labels = np.concatenate(scores), np.concatenate(labels)
    if labels.all() or not labels.any():
        return default
    return best_threshold(scores, labels)[0]
