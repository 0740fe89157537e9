"""scikit-learn's own estimator checks on the package's estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from wsmooth import WeightedSmoothingClassifier

# Small and quick, but trained long enough to pass the accuracy checks.
_CLASSIFIER = WeightedSmoothingClassifier(
    module__hidden_layer_sizes=(32,),
    max_epochs=10,
    lr=2e-2,
    batch_size=32,
    warmup_epochs=2,
    sigma=0.1,
    random_state=0,
)

_SKORCH_INIT = (
    "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_ and "
    "stores dunder parameters (module__*, iterator_train__*) as attributes"
)

_EXPECTED_FAILURES = {
    _CLASSIFIER: {
        "check_no_attributes_set_in_init": _SKORCH_INIT,
    },
}


@parametrize_with_checks(
    list(_EXPECTED_FAILURES),
    expected_failed_checks=lambda est: _EXPECTED_FAILURES.get(est, {}),
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
