"""Privacy tags: what an estimator does that a membership evaluation must know.

As scikit-learn's estimator tags tell its checks what an estimator supports,
privacy tags tell the experiment runner and the shadow engine two things the
estimator's API alone does not say:

* ``modifies_outputs``: the estimator changes its confidence vectors at
  prediction (HAMP's output modification, MemGuard's perturbation). Attacks on
  the scores may then be fooled while the labels still leak, so such an
  estimator is also attacked label-only.
* ``takes_reference``: ``fit`` takes a reference set of non-members
  (adversarial regularisation, MemGuard). Without one such a defence holds a
  part of its training data out, which would then be labelled a member
  although it was never trained on; the runner and the shadow engine pass one
  instead (:func:`reference_fit_params`).

An estimator declares its tags with a method ``__privacy_tags__()`` returning
:class:`PrivacyTags`; :func:`get_privacy_tags` reads them (defaults for an
estimator without the method).
"""

import inspect
from dataclasses import dataclass

__all__ = ["PrivacyTags", "get_privacy_tags", "reference_fit_params"]

#: The ``fit`` keywords a reference set is passed with.
REFERENCE_PARAMS = ("X_reference", "y_reference")


@dataclass(frozen=True)
class PrivacyTags:
    """What a membership evaluation must know about an estimator.

    Parameters
    ----------
    modifies_outputs : bool, default=False
        The estimator changes its outputs at prediction, so score attacks may
        not see what its labels reveal.
    takes_reference : bool, default=False
        ``fit(X, y, X_reference=..., y_reference=...)`` takes a reference set
        of non-members.
    """

    modifies_outputs: bool = False
    takes_reference: bool = False


def _pipeline_steps(estimator):
    """``(earlier steps, (name, final step))`` of a Pipeline, else None."""
    from sklearn.pipeline import Pipeline

    if not isinstance(estimator, Pipeline) or not estimator.steps:
        return None
    return estimator.steps[:-1], estimator.steps[-1]


def get_privacy_tags(estimator):
    """The :class:`PrivacyTags` of an estimator.

    Read from the estimator's ``__privacy_tags__()`` method. A
    :class:`~sklearn.pipeline.Pipeline` has the tags of its final step. Another
    meta-estimator without the method (one with an ``estimator`` parameter,
    e.g. :class:`~sklearn.model_selection.GridSearchCV`) passes on
    ``modifies_outputs`` of the estimator it wraps, but not
    ``takes_reference``: it would not route a reference set to it. Anything
    else has the default tags (nothing modified, no reference set).

    Parameters
    ----------
    estimator : estimator instance or class

    Returns
    -------
    PrivacyTags
    """
    method = getattr(estimator, "__privacy_tags__", None)
    if method is not None and not isinstance(estimator, type):
        tags = method()
        if not isinstance(tags, PrivacyTags):
            raise TypeError(
                f"{type(estimator).__name__}.__privacy_tags__() must return "
                f"PrivacyTags, got {type(tags).__name__}"
            )
        return tags
    steps = _pipeline_steps(estimator)
    if steps is not None:
        final = steps[1][1]
        if final is None or final == "passthrough":
            return PrivacyTags()
        return get_privacy_tags(final)
    inner = getattr(estimator, "estimator", None)
    if inner is not None and hasattr(inner, "fit") and not isinstance(inner, type):
        return PrivacyTags(modifies_outputs=get_privacy_tags(inner).modifies_outputs)
    return PrivacyTags()


def _accepts_reference(fit):
    try:
        params = inspect.signature(fit).parameters
    except (TypeError, ValueError):  # no signature: trust the tag
        return True
    names = set(params)
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return var_kw or set(REFERENCE_PARAMS) <= names


def reference_fit_params(estimator, X_reference, y_reference):
    """The ``fit`` keywords that give ``estimator`` a reference set.

    ``{"X_reference": X_reference, "y_reference": y_reference}`` for an
    estimator whose tags say ``takes_reference``; for a
    :class:`~sklearn.pipeline.Pipeline` whose final step takes one, the same
    keywords routed to that step (``"<step>__X_reference"``), allowed only when
    every earlier step is ``"passthrough"`` (a transformer would not transform
    the reference set). ``{}`` for an estimator that takes none.

    Parameters
    ----------
    estimator : estimator instance
    X_reference : array-like of shape (n_reference, ...)
        Records the estimator is not trained on (non-members).
    y_reference : array-like of shape (n_reference,)

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        If the tags say ``takes_reference`` but ``fit`` has no
        ``X_reference`` / ``y_reference`` keywords, or the reference set would
        have to pass through a Pipeline's transformers.
    """
    if not get_privacy_tags(estimator).takes_reference:
        return {}
    kwargs = {"X_reference": X_reference, "y_reference": y_reference}
    steps = _pipeline_steps(estimator)
    if steps is not None and getattr(estimator, "__privacy_tags__", None) is None:
        earlier, (name, final) = steps
        busy = [n for n, step in earlier if step is not None and step != "passthrough"]
        if busy:
            raise ValueError(
                f"the final step {name!r} of the Pipeline takes a reference set, "
                f"but it would not pass through the steps {busy}; fit the "
                "transformers first and pass their output, or give the defence "
                "its reference set yourself"
            )
        return {f"{name}__{k}": v for k, v in
                reference_fit_params(final, X_reference, y_reference).items()}
    if not _accepts_reference(estimator.fit):
        raise ValueError(
            f"{type(estimator).__name__}'s privacy tags say it takes a reference "
            f"set, but its fit has no {' / '.join(REFERENCE_PARAMS)} parameters"
        )
    return kwargs
