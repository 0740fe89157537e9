"""WeightedSmoothingClassifier: fit and predict cost, accuracy and leakage.

One class per estimator family, after scikit-learn's ``asv_benchmarks``:
``setup_cache`` fits one model per parameter setting once and returns them with
the figures measured on them; ``setup`` picks the setting's model; ``time_*``
and ``peakmem_*`` measure, ``track_*`` return the recorded figures.
"""

from sklearn.base import clone

from ._common import SEED, WS_SIGMA, loss_leakage_auc, make_classifier, make_splits


class WeightedSmoothingClassifierSuite:
    """Undefended (``sigma=0``) against weighted smoothing, every refresh mode."""

    param_names = ["sigma", "refresh"]
    params = [[0.0, WS_SIGMA], ["full", "live"]]

    # Fits take seconds: one fit per sample, a few samples at most.
    processes = 1
    number = 1
    repeat = (1, 3, 120.0)
    warmup_time = 0.0
    timeout = 600.0

    def setup_cache(self):
        members, nonmembers = make_splits()
        models, figures = {}, {}
        for sigma in self.params[0]:
            for refresh in self.params[1]:
                if not _meaningful(sigma, refresh):
                    continue
                clf = make_classifier(sigma, refresh=refresh).fit(*members)
                # Everything read from the members is measured here: the
                # classifier drops its member-derived attributes
                # (member_proba_, vulnerability_weights_, ...) when pickled,
                # and asv pickles what setup_cache returns.
                figures[sigma, refresh] = {
                    "train_accuracy": clf.score(*members),
                    "test_accuracy": clf.score(*nonmembers),
                    "leakage_auc": loss_leakage_auc(clf, *members, *nonmembers),
                }
                models[sigma, refresh] = clf
        return {"members": members, "nonmembers": nonmembers, "models": models,
                "figures": figures}

    setup_cache.timeout = 1800.0

    def setup(self, cache, sigma, refresh):
        if not _meaningful(sigma, refresh):
            raise NotImplementedError("sigma=0 trains no weights: no refresh mode")
        self.X, self.y = cache["members"]
        self.X_test, self.y_test = cache["nonmembers"]
        self.model = cache["models"][sigma, refresh]
        self.figures = cache["figures"][sigma, refresh]

    def time_fit(self, cache, sigma, refresh):
        clone(self.model).fit(self.X, self.y)

    def peakmem_fit(self, cache, sigma, refresh):
        clone(self.model).fit(self.X, self.y)

    def time_predict_proba(self, cache, sigma, refresh):
        self.model.predict_proba(self.X_test)

    def track_train_accuracy(self, cache, sigma, refresh):
        return self.figures["train_accuracy"]

    track_train_accuracy.unit = "accuracy"

    def track_test_accuracy(self, cache, sigma, refresh):
        return self.figures["test_accuracy"]

    track_test_accuracy.unit = "accuracy"

    def track_leakage_auc(self, cache, sigma, refresh):
        """Loss-threshold attack AUC, members vs held-out records (0.5 = none)."""
        return self.figures["leakage_auc"]

    track_leakage_auc.unit = "AUC"


def _meaningful(sigma, refresh):
    # With sigma=0 no weights are refreshed, so every mode is the same model.
    return sigma > 0 or refresh == "full"


class WeightedSmoothingOverheadSuite:
    """CPU time of a WS fit over plain skorch training (the target: at most 1.10x).

    Same network, data, epochs and batch size; WS at the classifier's
    defaults (``"defaults"``, noise weight included) and the paper's loop
    (``"reference"``, :meth:`~wsmooth.WeightedSmoothingClassifier.reference`),
    and the undefended network WS trains at ``sigma=0``
    (``"undefended"``, :class:`~wsmooth.NetClassifier` with gradient
    clipping at 10): what WS adds to wsmooth's own training is the ratio of
    ``"defaults"`` to it. Plain skorch is ``NeuralNetClassifier`` with
    cross-entropy. Fits are
    interleaved, each timed in process CPU time (a machine shared with other
    work stretches wall time), and the median of three rounds' ratios to the
    round's plain fit taken, as in ``benchmarks/ws_overhead.py``.
    """

    param_names = ["configuration"]
    params = [["undefended", "defaults", "reference"]]
    processes = 1
    number = 1
    repeat = 1
    timeout = 1800.0

    def setup_cache(self):
        import statistics
        import time

        import torch
        from skorch import NeuralNetClassifier

        from wsmooth import NetClassifier, WeightedSmoothingClassifier
        from wsmooth.nets import MLP

        from ._common import size

        s = size()
        (X, y), _ = make_splits()
        training = dict(
            optimizer=torch.optim.Adam,
            lr=1e-3,
            max_epochs=s["max_epochs"],
            batch_size=s["batch_size"],
            train_split=None,
            iterator_train__shuffle=True,
            verbose=0,
        )

        def plain():
            torch.manual_seed(SEED)
            return NeuralNetClassifier(
                MLP,
                module__n_features=X.shape[1],
                module__n_classes=len(set(y.tolist())),
                module__hidden_layer_sizes=s["hidden"],
                criterion=torch.nn.CrossEntropyLoss,
                **training,
            )

        builders = {
            "undefended": lambda **params: NetClassifier(
                clip_grad_norm=10.0, **params
            ),
            "defaults": WeightedSmoothingClassifier,
            "reference": WeightedSmoothingClassifier.reference,
        }
        makers = {"plain": plain}
        for name in self.params[0]:
            makers[name] = lambda build=builders[name]: build(
                module__hidden_layer_sizes=s["hidden"], random_state=SEED, **training
            )
        times = {name: [] for name in makers}
        for _ in range(3):
            for name, make in makers.items():
                est = make()
                start = time.process_time()
                est.fit(X, y)
                times[name].append(time.process_time() - start)
        return {
            name: statistics.median(
                t / base for t, base in zip(times[name], times["plain"], strict=True)
            )
            for name in self.params[0]
        }

    setup_cache.timeout = 1800.0

    def track_fit_time_ratio(self, ratios, configuration):
        return ratios[configuration]

    track_fit_time_ratio.unit = "x plain skorch"
