"""Test accuracy, loss-attack AUC and fit+predict time of HAMP, RelaxLoss and
MemGuard at their defaults, beside the undefended net.

A quick check that a change to a defence's training or output step moves
utility and leakage the way it should, on the data and network of the
defence table's ``purchase`` setting: ``make_purchase_like(2500,
n_classes=10)``, MLP (128,), 12 epochs, batch 128, Adam lr 1e-3. Each seed
shuffles the records and trains on half (members); the other half, less the
``--reference`` records MemGuard's defender sees as non-members, are the
non-members. The attack is the global loss threshold (AUC of minus the
cross-entropy of each record's output at its true label); test accuracy is
on the same non-members. The time is one fit plus one prediction of the
members and non-members.

Commands (run the same script against another checkout to compare, e.g.
``PYTHONPATH=/path/to/other/checkout python benchmarks/defence_fidelity.py``)::

    python benchmarks/defence_fidelity.py --seeds 0 1
    python benchmarks/defence_fidelity.py --defences memguard --seeds 0
"""

import argparse
import json
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from wsmooth.datasets import make_purchase_like
from wsmooth.defences import HAMPClassifier, MemGuard, RelaxLossClassifier, get_defence

COMMON = dict(
    module__hidden_layer_sizes=(128,), max_epochs=12, batch_size=128, lr=1e-3
)


def build(name, seed):
    if name == "none":
        return get_defence("none").build(random_state=seed, **COMMON)
    if name == "hamp":
        return HAMPClassifier(random_state=seed, **COMMON)
    if name == "relaxloss":
        return RelaxLossClassifier(random_state=seed, **COMMON)
    if name == "memguard":
        net = get_defence("none").build(random_state=seed, **COMMON)
        return MemGuard(net, random_state=seed)
    raise ValueError(f"unknown defence {name!r}")


def loss_auc(proba, y, member):
    p = np.clip(proba[np.arange(len(y)), y], 1e-12, 1.0)
    return roc_auc_score(member, np.log(p))


def run(name, seed, n_samples, n_reference):
    X, y = make_purchase_like(n_samples, n_classes=10, random_state=seed)
    order = np.random.default_rng(seed).permutation(len(X))
    half = len(X) // 2
    train, rest = order[:half], order[half:]
    reference, test = rest[:n_reference], rest[n_reference:]
    est = build(name, seed)
    start = time.perf_counter()
    if name == "memguard":
        est.fit(X[train], y[train], X_reference=X[reference], y_reference=y[reference])
    else:
        est.fit(X[train], y[train])
    evaluated = np.concatenate([train, test])
    proba = est.predict_proba(X[evaluated])
    seconds = time.perf_counter() - start
    member = np.r_[np.ones(len(train)), np.zeros(len(test))]
    labels = np.searchsorted(est.classes_, y[evaluated])
    return {
        "defence": name,
        "seed": seed,
        "test_accuracy": float((proba[len(train):].argmax(1) == labels[len(train):]).mean()),
        "loss_auc": float(loss_auc(proba, labels, member)),
        "fit_predict_seconds": round(seconds, 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--defences", nargs="+",
                        default=["none", "hamp", "relaxloss", "memguard"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--n-samples", type=int, default=2500)
    parser.add_argument("--reference", type=int, default=250)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    rows = []
    for name in args.defences:
        for seed in args.seeds:
            row = run(name, seed, args.n_samples, args.reference)
            rows.append(row)
            print(f"{name:10s} seed {seed}: test acc {row['test_accuracy']:.3f}  "
                  f"loss AUC {row['loss_auc']:.3f}  "
                  f"fit+predict {row['fit_predict_seconds']:.1f}s", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
