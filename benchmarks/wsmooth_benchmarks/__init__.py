"""asv benchmarks of wsmooth: speed, memory, accuracy and leakage side by side.

Modules: ``classifier`` (WeightedSmoothingClassifier: fit, predict, test
accuracy, leakage AUC) and ``attacks`` (MembershipInferenceAttack: attack AUC
and TPR at 1% FPR against an undefended and a defended target) and
``experiments`` (the privacy-utility frontier: the undefended model's leakage,
the frontier's least leakage and the accuracy kept). Shared data and
settings live in ``_common``; ``WSMOOTH_BENCH_SIZE`` (tiny, small, large)
picks their size.
"""
