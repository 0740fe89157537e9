"""The leave-shadows-out rule: which shadows calibrate a shadow playing the target.

The attacks that compare a target with shadow (reference) models, LiRA and
RMIA, tune and calibrate themselves on the shadows: each shadow model in turn
plays the target (a *pseudo-target*) and is attacked with the other shadows as
references; its keep mask says which of its scores are members. The
threshold, and any parameter tuned this way, is then chosen on the pooled
pseudo-target scores.

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
"""

import numpy as np

__all__ = ["calibration_shadows", "complementary_partners", "leave_shadows_out"]


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
