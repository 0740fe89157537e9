"""Labels to class indices, vectorised, for any label type."""

import numpy as np

__all__ = ["class_index"]


def class_index(labels, classes):
    """Index of each label in ``classes``, -1 where the label is absent.

    Unlike ``np.searchsorted(classes, labels)``, a label missing from
    ``classes`` is reported rather than mapped to a neighbour, and ``classes``
    need not be sorted.

    Parameters
    ----------
    labels : array-like of shape (n,)
    classes : array-like of shape (n_classes,)

    Returns
    -------
    ndarray of int of shape (n,)
    """
    labels = np.asarray(labels)
    classes = np.asarray(classes)
    if classes.shape[0] == 0:
        return np.full(labels.shape, -1, dtype=np.intp)
    sorter = np.argsort(classes, kind="stable")
    pos = np.searchsorted(classes, labels, sorter=sorter)
    idx = sorter[np.clip(pos, 0, classes.shape[0] - 1)]
    return np.where(classes[idx] == labels, idx, -1).astype(np.intp)
