"""wsmooth: train classifiers that leak less, and measure the leakage.

The public surface: :class:`WeightedSmoothingClassifier` (the defence),
:class:`MembershipInferenceAttack` (the attacks), and the subpackages
``wsmooth.metrics``, ``wsmooth.datasets`` and ``wsmooth.nets``.
"""

from .attacks import MembershipInferenceAttack
from .classifier import WeightedSmoothingClassifier

__version__ = "0.1.0"

__all__ = ["MembershipInferenceAttack", "WeightedSmoothingClassifier", "__version__"]
