"""asv benchmarks of wsmooth: speed, memory, accuracy and leakage side by side.

Modules: ``classifier`` (WeightedSmoothingClassifier: fit, predict, test
accuracy, leakage AUC) and ``attacks`` (MembershipInferenceAttack: attack AUC
and TPR at 1% FPR against an undefended and a defended target). Shared data and
settings live in ``_common``; ``WSMOOTH_BENCH_SIZE`` (tiny, small, large)
picks their size.
"""
