"""Several distilled networks trained in one pass, each on its own records.

The ``distill`` attack fits one :class:`QuantileNetRegressor` per network of
its cross-fitting design, each on the population records outside some folds.
Trained one after the other, the networks spend most of their time in the
per-step work of small batches (optimiser updates, dispatch), not in
arithmetic. :func:`fit_jointly` trains them all at once: every batch goes
through every network (the first layers side by side in one matrix product,
the others batched), each network's loss is the mean over the records of the
batch it may train on, and one fused Adam step updates them all. Adam is
elementwise, so no network reads another's gradient or any record outside
its mask: each is a network of the regressor's architecture trained on its
own records, with batches of its records drawn from the shared order.
"""

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state

from ._quantile_net import QuantileNetRegressor, _check_log_proba

__all__ = ["fit_jointly"]


def _adam(torch, params, lr, weight_decay):
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)


def fit_jointly(regressor, X, y, train_mask):
    """Fit ``train_mask.shape[1]`` copies of ``regressor`` at once.

    Parameters
    ----------
    regressor : QuantileNetRegressor
        With ``loss="cross_entropy"`` (and so no ``label_columns``): its
        architecture, epochs, batch size, learning rate, weight decay and
        ``n_networks`` are those of every copy; its ``random_state`` seeds
        them all (initial weights and the shared batch order).
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples, n_classes)
        Log-probabilities, as :meth:`QuantileNetRegressor.fit` takes them.
    train_mask : ndarray of bool of shape (n_samples, n_copies)
        ``train_mask[i, j]``: copy ``j`` trains on record ``i``.

    Returns
    -------
    list of QuantileNetRegressor
        ``n_copies`` fitted clones of ``regressor``; copy ``j`` predicts
        with the networks trained on the records of ``train_mask[:, j]``.
    """
    import torch
    from torch import nn

    if not isinstance(regressor, QuantileNetRegressor) or (
        regressor.loss != "cross_entropy"
    ):
        raise ValueError(
            "fit_jointly trains QuantileNetRegressor(loss='cross_entropy') "
            f"copies; got {regressor!r}"
        )
    regressor._validate_params()
    if regressor.label_columns is not None:
        raise ValueError(
            "loss='cross_entropy' reads no label: label_columns must be None, "
            f"got {regressor.label_columns}"
        )
    sizes = regressor._hidden_sizes()
    if not sizes:
        raise ValueError("fit_jointly needs at least one hidden layer")
    X = np.asarray(X, dtype=np.float64)
    y = _check_log_proba(y, X.shape[0])
    train_mask = np.asarray(train_mask, dtype=bool)
    if X.ndim != 2 or train_mask.ndim != 2 or train_mask.shape[0] != X.shape[0]:
        raise ValueError(
            f"X must be (n_samples, n_features) and train_mask (n_samples, "
            f"n_copies): got {X.shape} and {train_mask.shape}"
        )
    if not train_mask.any(axis=0).all():
        raise ValueError("every copy needs at least one record in train_mask")
    n, d = X.shape
    n_classes = y.shape[1]
    per_copy = int(regressor.n_networks)
    n_copies = train_mask.shape[1]
    n_nets = n_copies * per_copy  # network c * per_copy + m is copy c's m-th

    # mixed as QuantileNetRegressor mixes it, with another constant: never a
    # wsmooth classifier's torch seed for the same random_state
    drawn = check_random_state(regressor.random_state).randint(2**31 - 1)
    seed = int(np.random.SeedSequence([drawn, 0x10F7]).generate_state(1)[0] >> 1)
    gen = torch.Generator().manual_seed(seed)

    def uniform(*shape, fan_in):  # nn.Linear's initialisation
        bound = 1.0 / np.sqrt(fan_in)
        return ((torch.rand(*shape, generator=gen) * 2 - 1) * bound).requires_grad_()

    widths = (d, *sizes, n_classes)
    first_w = uniform(d, n_nets * widths[1], fan_in=d)
    first_b = uniform(n_nets * widths[1], fan_in=d)
    layers = [
        (uniform(n_nets, a, b, fan_in=a), uniform(n_nets, 1, b, fan_in=a))
        for a, b in zip(widths[1:-1], widths[2:], strict=True)
    ]
    params = [first_w, first_b, *(p for layer in layers for p in layer)]
    act = {"tanh": torch.tanh, "relu": torch.relu}[regressor.activation]

    def forward(x):
        h = act(x @ first_w + first_b).view(x.shape[0], n_nets, widths[1])
        h = h.transpose(0, 1)  # (n_nets, batch, width)
        for i, (w, b) in enumerate(layers):
            h = torch.baddbmm(b, h, w)
            if i < len(layers) - 1:
                h = act(h)
        return h  # (n_nets, batch, n_classes)

    inputs = torch.as_tensor(X, dtype=torch.float32)
    target = torch.as_tensor(np.exp(y), dtype=torch.float32)
    keep = torch.as_tensor(
        np.repeat(train_mask, per_copy, axis=1).T, dtype=torch.float32
    )  # (n_nets, n)
    optimizer = _adam(
        torch, params, float(regressor.lr), float(regressor.weight_decay)
    )
    batch_size = int(regressor.batch_size)
    for _ in range(int(regressor.max_epochs)):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            logits = forward(inputs[batch])  # (n_nets, batch, n_classes)
            ce = torch.nn.functional.cross_entropy(
                logits.transpose(1, 2),
                target[batch].T.unsqueeze(0).expand(n_nets, -1, -1),
                reduction="none",
            )  # (n_nets, batch)
            weight = keep[:, batch]
            loss = ((ce * weight).sum(dim=1) / weight.sum(dim=1).clamp_min(1)).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    act_module = {"tanh": nn.Tanh, "relu": nn.ReLU}[regressor.activation]
    fitted = []
    with torch.no_grad():
        for c in range(n_copies):
            modules = []
            for m in range(c * per_copy, (c + 1) * per_copy):
                cols = slice(m * widths[1], (m + 1) * widths[1])
                first = nn.Linear(d, widths[1])
                first.weight.copy_(first_w[:, cols].T)
                first.bias.copy_(first_b[cols])
                seq = [first]
                for w, b in layers:
                    lin = nn.Linear(w.shape[1], w.shape[2])
                    lin.weight.copy_(w[m].T)
                    lin.bias.copy_(b[m, 0])
                    seq += [act_module(), lin]
                modules.append(nn.Sequential(*seq).eval())
            reg = clone(regressor)
            reg.n_features_in_ = d
            reg.y_mean_, reg.y_scale_ = 0.0, 1.0
            reg.modules_ = modules
            fitted.append(reg)
    return fitted
