"""
=====================================
Measuring leakage with attack reports
=====================================

Attack a fitted model with :class:`~wsmooth.MembershipInferenceAttack`, read
the figures of the field from its report (AUC, balanced accuracy, advantage,
TPR at 0.1% and 1% FPR) and draw the log-log ROC curve, following the
:ref:`protocol`: target members, as many non-members, and a disjoint attacker
population.
"""

# %%
# Splits
# ------
# One pool, three disjoint parts: the target's members, the non-members (as
# many as the members) and the attacker's population. 1000 non-members is the
# smallest number at which a TPR at 0.1% FPR is defined at all (see the
# :math:`1/n` caveat in :ref:`protocol`); real evaluations use many more.
import tempfile

import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split

from wsmooth import MembershipInferenceAttack
from wsmooth.datasets import make_purchase_like
from wsmooth.defences import get_defence

X, y = make_purchase_like(n_samples=4000, n_classes=20, random_state=0)
X_target, X_pop, y_target, y_pop = train_test_split(
    X, y, test_size=0.5, stratify=y, random_state=0
)
X_in, X_out, y_in, y_out = train_test_split(
    X_target, y_target, test_size=0.5, stratify=y_target, random_state=0
)
print(f"members {len(y_in)}, non-members {len(y_out)}, population {len(y_pop)}")

# %%
# The target
# ----------
# The undefended network (the ``"none"`` defence), small enough for the
# example.
target = get_defence("none").build(
    module__hidden_layer_sizes=(128,),
    max_epochs=10,
    batch_size=64,
    random_state=0,
).fit(X_in, y_in)
print(f"test accuracy {target.score(X_out, y_out):.3f}")

# %%
# The modified-entropy attack
# ---------------------------
# ``method="mentr"`` is Song & Mittal's attack: one threshold per class on the
# modified entropy of the prediction, calibrated on shadow models. The shadow
# models are clones of the target's configuration, trained on halves of the
# population. ``cache_dir`` stores each finished shadow model, so the attacks
# below that need the same shadows reuse them instead of training again.
cache = tempfile.TemporaryDirectory()
mia = MembershipInferenceAttack(
    target, method="mentr", n_shadow=4, cache_dir=cache.name, random_state=0
)
mia.fit(X_pop, y_pop)

report = mia.evaluate(X_in, y_in, X_out, y_out)
print(report)

# %%
# The report holds every figure, the ROC arrays, and ``to_dict()`` for tables.
for key, value in report.to_dict().items():
    print(f"{key:>24}: {value}")

# %%
# More attacks, one picture
# -------------------------
# A defence is as good as the strongest attack against it, so run several.
# ``"correctness"`` needs no shadow models; ``"loss"`` reuses the cached ones.
# On log-log axes the low-FPR region, where an attacker names members with
# confidence, is visible; the dashed diagonal is chance.
reports = [report]
for method in ["correctness", "loss"]:
    attack = MembershipInferenceAttack(
        target, method=method, n_shadow=4, cache_dir=cache.name, random_state=0
    ).fit(X_pop, y_pop)
    reports.append(attack.evaluate(X_in, y_in, X_out, y_out))
    print(reports[-1])

fig, ax = plt.subplots(figsize=(5.5, 5.5))
for i, r in enumerate(reports):
    r.plot(ax=ax, chance_line=(i == len(reports) - 1))
ax.set_title("Membership inference against the undefended target")
plt.show()

# %%
# The strongest attack
# --------------------
# Report, per figure, the maximum over the attacks.
strongest = max(reports, key=lambda r: r.tpr_at_fpr[0.01])
print(
    f"strongest at 1% FPR: {strongest.name} "
    f"(TPR {strongest.tpr_at_fpr[0.01]:.3f}); "
    f"highest AUC: {max(r.auc for r in reports):.3f}"
)
cache.cleanup()
