"""Record every figure of fixed seeds, and check a later version reproduces
them bit for bit.

For a refactoring that must not change behaviour: run ``--record`` before the
change and ``--compare`` after it. Recorded, on a small purchase-like set (800
records, 5 classes, 3 epochs, so that the whole run takes a few minutes):

- each registered defence at the first point of its grid, trained on a fixed
  member half: its ``predict_proba`` on the pool and the test set;
- each registered attack method at its defaults (2 shadow models) against the
  undefended target: its ``decision_function`` on the pool;
- one :func:`wsmooth.experiments.run_experiment` over three defences, two
  seeds, three attacks and mislabelled canaries: every figure of every row;
- the ``wsmooth`` command's JSON report on the same data.

Arrays are compared exactly (``numpy.array_equal``, NaN equal to NaN), and
the first differences are listed.

Commands (from a checkout)::

    OMP_NUM_THREADS=1 python benchmarks/output_fingerprint.py --record before.npz
    OMP_NUM_THREADS=1 python benchmarks/output_fingerprint.py --compare before.npz
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch

from wsmooth import MembershipInferenceAttack
from wsmooth.attacks import pool_split
from wsmooth.datasets import make_purchase_like
from wsmooth.defences import available_defences, get_defence
from wsmooth.experiments import hold_out_test, run_experiment

COMMON = {
    "max_epochs": 5,
    "batch_size": 64,
    "lr": 1e-3,
    "module__hidden_layer_sizes": (32,),
    "random_state": 0,
}


def _attack_names():
    try:
        from wsmooth.attacks import available_methods
    except ImportError:  # versions before the public listing
        from wsmooth.attacks._methods import METHODS

        return sorted(METHODS)
    return available_methods()


def _data():
    X, y = make_purchase_like(800, n_classes=5, random_state=0)
    X_pool, y_pool, X_test, y_test = hold_out_test(X, y, test_size=0.2, random_state=0)
    return X, y, X_pool, y_pool, X_test, y_test


def _first_point(grid):
    return {key: values[0] for key, values in grid.items()}


def _defence_outputs(X_pool, y_pool, X_test, out):
    split = pool_split(X_pool, y_pool, random_state=0)
    for name in available_defences():
        defence = get_defence(name)
        try:
            estimator = defence.build(**COMMON)
        except ImportError as exc:  # an optional dependency is missing
            print(f"skipped {name}: {exc}", file=sys.stderr)
            continue
        estimator.set_params(**_first_point(defence.grid))
        estimator.fit(split.X_members, split.y_members)
        out[f"defence/{name}/pool"] = estimator.predict_proba(X_pool)
        out[f"defence/{name}/test"] = estimator.predict_proba(X_test)
        print(f"defence {name}", file=sys.stderr, flush=True)
    return split


def _attack_outputs(split, out):
    target = get_defence("none").build(**COMMON).fit(split.X_members, split.y_members)
    for method in _attack_names():
        mia = MembershipInferenceAttack(
            target, method=method, n_shadow=2, random_state=0
        ).fit(split.X_pool, split.y_pool)
        out[f"attack/{method}"] = mia.decision_function(split.X_pool, split.y_pool)
        print(f"attack {method}", file=sys.stderr, flush=True)


def _experiment_outputs(X_pool, y_pool, out):
    configurations = {}
    for name in ("none", "ws", "early_stopping"):
        defence = get_defence(name)
        configurations[name] = (
            defence.build(**COMMON),
            {key: values[:2] for key, values in defence.grid.items()},
        )
    results = run_experiment(
        X_pool, y_pool, configurations, attacks=["loss", "lira", "rmia"],
        seeds=2, n_shadow=2, canaries=20, random_state=0,
    )
    for i, row in enumerate(results.to_dict()["rows"]):
        for key, value in sorted(row.items()):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[f"experiment/{i}/{key}"] = np.asarray(value, dtype=float)
            else:
                out[f"experiment/{i}/{key}"] = np.asarray(json.dumps(value, sort_keys=True))


def _command_outputs(out):
    with tempfile.TemporaryDirectory() as folder:
        argv = [
            sys.executable, "-m", "wsmooth", "--n-samples", "600", "--n-classes", "4", "--defences", "none", "ws",
            "--sigma", "0.1", "--attacks", "loss", "rmia", "--seeds", "2",
            "--shadows", "2", "--epochs", "5", "--hidden", "16", "--out", folder,
            "--json", "--quiet",
        ]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(folder, "results.json")) as fh:
            report = json.load(fh)
    for i, row in enumerate(report["rows"]):
        for key, value in sorted(row.items()):
            out[f"command/{i}/{key}"] = np.asarray(json.dumps(value, sort_keys=True))


def record():
    torch.set_num_threads(1)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y, X_pool, y_pool, X_test, y_test = _data()
        split = _defence_outputs(X_pool, y_pool, X_test, out)
        _attack_outputs(split, out)
        _experiment_outputs(X_pool, y_pool, out)
        _command_outputs(out)
    return out


def _drop_timings(out):
    return {k: v for k, v in out.items() if not k.rsplit("/", 1)[-1].endswith("seconds")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--record", metavar="PATH")
    group.add_argument("--compare", metavar="PATH")
    args = parser.parse_args(argv)
    out = _drop_timings(record())
    if args.record:
        np.savez(args.record, **out)
        print(f"recorded {len(out)} arrays to {args.record}")
        return 0
    with np.load(args.compare, allow_pickle=False) as recorded:
        before = {key: recorded[key] for key in recorded.files}
    before = _drop_timings(before)
    missing = sorted(set(before) - set(out))
    added = sorted(set(out) - set(before))
    changed = [
        key for key in sorted(set(before) & set(out))
        if not np.array_equal(before[key], out[key], equal_nan=before[key].dtype.kind == "f")
    ]
    for key in changed[:20]:
        print(f"changed: {key}")
    for key in missing[:20]:
        print(f"missing: {key}")
    for key in added[:20]:
        print(f"added: {key}")
    same = len(before) - len(changed) - len(missing)
    print(f"{same} of {len(before)} recorded arrays identical; {len(changed)} changed, "
          f"{len(missing)} missing, {len(added)} added")
    return 1 if changed or missing else 0


if __name__ == "__main__":
    sys.exit(main())
