"""MembershipInferenceAttack: leakage of an undefended and a defended target.

``setup_cache`` follows the evaluation protocol at the selected size: target
members, as many non-members, a disjoint attacker population. It fits one
target per noise weight and, against each, the threshold attacks, which share
their shadow models through ``cache_dir``; the reports' figures are recorded
there and tracked below.
"""

import tempfile

from ._common import WS_SIGMA, make_classifier, make_splits, size

METHODS = ["loss", "mentr"]


class ThresholdAttackSuite:
    """Loss and modified-entropy threshold attacks against sigma=0 and WS."""

    param_names = ["target_sigma", "method"]
    params = [[0.0, WS_SIGMA], METHODS]

    processes = 1
    number = 1
    repeat = 1
    warmup_time = 0.0
    timeout = 600.0

    def setup_cache(self):
        from wsmooth import MembershipInferenceAttack

        members, nonmembers, population = make_splits(with_population=True)
        figures = {}
        for sigma in self.params[0]:
            target = make_classifier(sigma).fit(*members)
            with tempfile.TemporaryDirectory() as shadows:
                for method in self.params[1]:
                    attack = MembershipInferenceAttack(
                        target, method=method, n_shadow=size()["n_shadow"],
                        cache_dir=shadows, random_state=0,
                    ).fit(*population)
                    report = attack.evaluate(*members, *nonmembers,
                                             fpr_levels=(0.01,))
                    figures[sigma, method] = report.to_dict()
        return figures

    setup_cache.timeout = 3600.0

    def setup(self, figures, target_sigma, method):
        self.figures = figures[target_sigma, method]

    def track_attack_auc(self, figures, target_sigma, method):
        return self.figures["auc"]

    track_attack_auc.unit = "AUC"

    def track_attack_tpr_at_1pct_fpr(self, figures, target_sigma, method):
        return self.figures["tpr@1%fpr"]

    track_attack_tpr_at_1pct_fpr.unit = "TPR"

    def track_attack_balanced_accuracy(self, figures, target_sigma, method):
        """At the threshold the attack calibrated on its shadow models."""
        return self.figures["balanced_accuracy"]

    track_attack_balanced_accuracy.unit = "balanced accuracy"
