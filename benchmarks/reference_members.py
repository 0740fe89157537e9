"""Defences with a reference set, switched off, must leak as the plain net does.

Adversarial regularisation at ``reg_lambda=0`` trains the plain
cross-entropy, and MemGuard at ``budget=0`` returns the classifier's own
outputs: under the experiment runner both must give the undefended net's
leakage. They do only if the records a defence holds out as its reference set
are never labelled members (for the target and for the shadow models): a
record labelled a member but not trained on looks like a non-member, and the
attack's AUC drops although nothing defends.

This script runs :func:`wsmooth.experiments.run_experiment` on
``make_purchase_like(3000, n_classes=50)`` with an MLP (256,) trained for 15
epochs, the loss attack, 2 shadow models and seeds 0 and 1, and prints the
loss attack's AUC (mean over seeds) of each configuration and its distance to
the undefended net's. Command (from a checkout; a few minutes on 2 CPU
cores)::

    OMP_NUM_THREADS=1 python benchmarks/reference_members.py

``--n-samples``, ``--classes``, ``--epochs``, ``--seeds`` and ``--shadows``
change the setup; ``--json PATH`` writes the figures.
"""

import argparse
import json

import numpy as np
import torch

from wsmooth.datasets import make_purchase_like
from wsmooth.defences import AdversarialRegularizationClassifier, MemGuard, get_defence
from wsmooth.experiments import run_experiment


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-samples", type=int, default=3000)
    parser.add_argument("--classes", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--shadows", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    X, y = make_purchase_like(args.n_samples, n_classes=args.classes, random_state=0)
    net = {"module__hidden_layer_sizes": (256,), "max_epochs": args.epochs}
    plain = get_defence("none").build(**net)
    defences = {
        "none": plain,
        "advreg": (
            AdversarialRegularizationClassifier(**net),
            [{"reg_lambda": 0.0}],
        ),
        "memguard": (MemGuard(plain), [{"budget": 0.0}]),
    }
    results = run_experiment(
        X, y, defences, attacks=["loss"], seeds=args.seeds, n_shadow=args.shadows
    )
    auc = {}
    for name in defences:
        values = [
            r["auc"]
            for r in results
            if r["configuration"] == name and r["attack"] == "loss"
        ]
        auc[name] = {"mean": float(np.mean(values)), "per_seed": values}
    base = auc["none"]["mean"]
    print(f"loss attack AUC, mean over seeds {list(range(args.seeds))}")
    for name, a in auc.items():
        seeds = ", ".join(f"{v:.3f}" for v in a["per_seed"])
        print(f"  {name:9s} {a['mean']:.3f}  (seeds: {seeds})  "
              f"difference to none {a['mean'] - base:+.3f}")
    meta = {k: results.meta.get(k) for k in ("n_pool", "n_members", "n_nonmembers",
                                             "n_reference")}
    print(f"  pool {meta}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"auc": auc, "meta": meta, "args": vars(args)}, f, indent=1)


if __name__ == "__main__":
    main()
