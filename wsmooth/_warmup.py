"""Weighted smoothing's warm-up rule: which epochs train with noise.

Free of heavy imports, so that the ``wsmooth`` command checks its arguments
with the very rule the estimator follows
(:class:`~wsmooth.WeightedSmoothingClassifier`) before torch is loaded.
"""

__all__ = ["SIGMA_TOL", "noise_active", "noise_never_starts"]

#: Below this noise weight the classifier trains plain negative log-likelihood.
SIGMA_TOL = 1e-12


def noise_active(sigma, epoch, warmup_epochs):
    """Whether 0-based epoch ``epoch`` (counted over the whole history) is noisy.

    Parameters
    ----------
    sigma : float
        The noise weight.
    epoch : int
        The epoch, counted from 0.
    warmup_epochs : int
        The clean epochs before the noise starts.

    Returns
    -------
    bool
    """
    return sigma > SIGMA_TOL and epoch >= warmup_epochs


def noise_never_starts(sigma, epochs, warmup_epochs):
    """Whether noise is asked for but a training of ``epochs`` epochs ends
    before the warm-up does: the model is then the undefended one.

    Parameters
    ----------
    sigma : float
        The noise weight.
    epochs : int
        The epochs trained in all (those of earlier fits included).
    warmup_epochs : int
        The clean epochs before the noise starts.

    Returns
    -------
    bool
    """
    return sigma > SIGMA_TOL and not noise_active(sigma, epochs - 1, warmup_epochs)
