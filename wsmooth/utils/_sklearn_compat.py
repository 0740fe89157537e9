"""scikit-learn's private helpers, imported in this one place.

The package declares its parameters the scikit-learn way (``Interval``,
``StrOptions``, ``@validate_params``, ``@_fit_context``) and uses a few
private utilities (``_num_samples``, ``_safe_indexing``). scikit-learn may
move or change any of these in a minor release without a deprecation cycle, so
every module of the package imports them from here and from nowhere else
(``tests/test_import_structure.py`` enforces it): a release that moves one
breaks this module alone, with an error that names the supported range,
instead of an ``ImportError`` deep inside whichever module happens to be
imported first.

The range below is the one the package metadata (``pyproject.toml``)
declares: from the first release with the API the package uses (the
``__sklearn_tags__`` protocol and the public ``validate_data``, both new in
1.6) to below the first minor release it has not been checked against.
"""

import sklearn

#: The scikit-learn releases the package supports, as the metadata states it.
SUPPORTED_SKLEARN = ">=1.6,<1.10"

try:
    from sklearn.base import _fit_context
    from sklearn.utils import _safe_indexing
    from sklearn.utils._param_validation import (
        HasMethods,
        Interval,
        InvalidParameterError,
        Options,
        StrOptions,
        validate_parameter_constraints,
        validate_params,
    )
    from sklearn.utils.validation import _num_samples
except ImportError as exc:  # pragma: no cover - only on an unsupported release
    raise ImportError(
        f"wsmooth supports scikit-learn {SUPPORTED_SKLEARN}, but "
        f"scikit-learn {sklearn.__version__} is installed and lacks a helper "
        f"wsmooth uses ({exc}). Install a supported release, e.g. "
        f"pip install 'scikit-learn{SUPPORTED_SKLEARN}'."
    ) from exc

__all__ = [
    "SUPPORTED_SKLEARN",
    "HasMethods",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_fit_context",
    "_num_samples",
    "_safe_indexing",
    "validate_parameter_constraints",
    "validate_params",
]

