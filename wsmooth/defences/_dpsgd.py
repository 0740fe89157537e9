"""DP-SGD through Opacus (Abadi et al., CCS 2016): per-record clipping and noise."""

import functools
import warnings
from numbers import Real

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset

from .._net import NetClassifier, unavailable_partial_fit
from ..utils._sklearn_compat import Interval, StrOptions

__all__ = ["DPSGDClassifier", "TUNED_TRAINING", "TUNED_EPSILONS"]

#: DP-SGD's training measured best on the command's default data
#: (purchase-like, 900 members, MLP 128; ``benchmarks/dpsgd_tuning.py``), for
#: the registry's grid. The rule scales with the data: each step samples a
#: quarter of the records (the expected batch is ``n / 4``) and an epoch is 4
#: steps, so 60 epochs are 240 noisy steps whatever ``n``, and the larger the
#: set, the less noise on the averaged gradient. Adam at 3x the plain rate;
#: the clipping norm hardly matters with Adam (nearly every per-record
#: gradient of this network is above 1), and 1.0 is the usual value.
TUNED_TRAINING = {
    "sample_rate": 0.25, "max_epochs": 60, "lr": 3e-3, "max_grad_norm": 1.0,
}
#: The registry's epsilons, from strong privacy to nearly none: at 1000 the
#: noise is a small fraction of the clipping norm, so the frontier shows what
#: clipping alone costs.
TUNED_EPSILONS = (1.0, 4.0, 16.0, 64.0, 1000.0)

#: The grad-sample modes offered; all give the same per-record gradients,
#: hence the same guarantee.
GRAD_SAMPLE_MODES = ("hooks", "functorch", "ew")


def _opacus():
    try:
        import opacus  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError(
            "DPSGDClassifier needs Opacus: pip install 'wsmooth[dp]'"
        ) from exc
    return opacus


@functools.lru_cache(maxsize=128)
def _noise_multiplier(target_epsilon, delta, sample_rate, steps, accountant):
    """Opacus' noise calibration, kept per setting: its search over the
    accountant takes seconds, and shadow models repeat the same setting."""
    from opacus.accountants.utils import get_noise_multiplier

    return float(
        get_noise_multiplier(
            target_epsilon=target_epsilon,
            target_delta=delta,
            sample_rate=sample_rate,
            steps=steps,
            accountant=accountant,
        )
    )


@functools.lru_cache(maxsize=128)
def _epsilon(noise_multiplier, sample_rate, steps, accountant, delta):
    """Epsilon spent by ``steps`` steps, by Opacus' accountant."""
    from opacus.accountants import create_accountant

    accountant = create_accountant(accountant)
    accountant.history = [(noise_multiplier, sample_rate, steps)]
    return float(accountant.get_epsilon(delta=delta))


class _TensorTrainingSet(TorchDataset):
    """Training records as tensors, ``(X_i, y_i)``: Opacus' Poisson loader
    builds empty batches from the shapes and dtypes of one item."""

    def __init__(self, dataset):
        if isinstance(dataset, torch.utils.data.Subset):
            indices = np.asarray(dataset.indices)
            X, y = dataset.dataset.X[indices], dataset.dataset.y[indices]
        else:
            X, y = dataset.X, dataset.y
        self.X, self.y = np.asarray(X), np.asarray(y)
        self._X = torch.as_tensor(self.X)
        self._y = torch.as_tensor(self.y, dtype=torch.long)

    def __len__(self):
        return len(self._y)

    def __getitem__(self, i):
        return self._X[i], self._y[i]


class DPSGDClassifier(NetClassifier):
    """Network trained with differentially private SGD through Opacus.

    Each step samples every record independently (Poisson sampling at rate
    ``sample_rate``, else ``1 / ceil(n / batch_size)``, as Opacus'
    ``DPDataLoader``), clips each
    record's gradient to ``max_grad_norm`` and adds Gaussian noise whose scale
    Opacus' accountant chooses so that the ``max_epochs`` epochs of one
    ``fit`` spend at most ``target_epsilon`` at ``target_delta``. The
    optimizer (``Adam`` by default; any torch optimizer) applies the noisy
    gradient. Needs the ``dp`` extra (``pip install 'wsmooth[dp]'``).

    Parameters
    ----------
    target_epsilon : float, default=8.0
        Privacy budget epsilon of one ``fit``, > 0.
    target_delta : float or None, default=None
        Delta; ``None`` takes ``1 / n_samples`` (below it is recommended:
        pass e.g. ``1e-5`` for large sets).
    max_grad_norm : float, default=1.0
        Per-record gradient clipping norm, > 0.
    sample_rate : float in (0, 1] or None, default=None
        Poisson sampling rate of a step: the expected batch as a fraction of
        the records, so that the batch grows with the data and an epoch is
        ``floor(1 / sample_rate)`` steps whatever their number (hence
        ``max_epochs`` fixes the steps the accountant charges for). ``None``
        takes the rate from ``batch_size``. ``batch_size`` still sets the
        batches of prediction. The per-record gradients of a batch are held
        at once: mind the memory on large sets.
    accountant : {"rdp", "prv"}, default="rdp"
        Opacus' privacy accountant.
    grad_sample_mode : {"ew", "functorch", "hooks"}, default="ew"
        How Opacus computes per-record gradients: torch's expanded weights,
        functorch's vmap, or module hooks. Same gradients, same guarantee;
        only speed differs. "ew" was the fastest for an MLP on 2 CPU cores
        (``benchmarks/dpsgd_modes.py``: 1.9-2.8x plain training, against
        2.3-4.2x for "functorch" and 5.1-6.6x for "hooks").
    module, random_state, criterion, optimizer, lr, max_epochs, batch_size, **kwargs
        As in :class:`~wsmooth.NetClassifier`. ``random_state``
        also seeds the sampling and the noise (not cryptographically secure:
        for a deployed model, use Opacus' ``secure_mode`` directly).
        ``warm_start`` and a ``train_split`` are refused and ``partial_fit``
        is absent: the budget is for one ``fit`` on every record given.
        ``clip_grad_norm`` must stay None: the clipping is per record
        (``max_grad_norm``).

    Attributes
    ----------
    epsilon_ : float
        Epsilon spent by the fit, by the accountant, at ``delta_``.
    delta_ : float
    noise_multiplier_ : float
        Noise standard deviation over ``max_grad_norm``.
    sample_rate_ : float
    steps_ : int
        Optimizer steps taken.
    member_proba_, member_labels_ : ndarray
        The final model's outputs on its training records; not pickled.

    Notes
    -----
    The defaults are those of plain training (``lr=1e-3``, ``batch_size=128``,
    ``max_epochs=30``), which DP-SGD trains poorly with. Measured best on the
    embedded purchase-like data (900 members, 10 classes, MLP (128,); see
    ``benchmarks/dpsgd_tuning.py``) is ``TUNED_TRAINING`` (this module):
    ``sample_rate=0.25``, ``max_epochs=60``, ``lr=3e-3``,
    ``max_grad_norm=1.0``; test accuracy 0.84 at epsilon 4 and 0.97 at 16,
    against 0.45 and 0.66 at the plain settings of 12 epochs. The registry's
    ``dpsgd`` grid trains with it::

        from wsmooth.defences._dpsgd import TUNED_TRAINING

        DPSGDClassifier(target_epsilon=4.0, **TUNED_TRAINING)
    """

    _parameter_constraints = {
        **NetClassifier._parameter_constraints,
        "target_epsilon": [Interval(Real, 0, None, closed="neither")],
        "target_delta": [Interval(Real, 0, 1, closed="neither"), None],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither")],
        "sample_rate": [Interval(Real, 0, 1, closed="right"), None],
        "accountant": [StrOptions({"rdp", "prv"})],
        "grad_sample_mode": [StrOptions(set(GRAD_SAMPLE_MODES))],
        # Opacus clips each record's gradient (max_grad_norm) and replaces the
        # batch gradient with the noisy sum: a bound on the latter would do
        # nothing
        "clip_grad_norm": [None],
    }

    _transient_attributes = NetClassifier._transient_attributes + (
        "_dp_generator",
    )

    def __init__(
        self,
        module=None,
        *args,
        target_epsilon=8.0,
        target_delta=None,
        max_grad_norm=1.0,
        sample_rate=None,
        accountant="rdp",
        grad_sample_mode="ew",
        **kwargs,
    ):
        super().__init__(module, *args, **kwargs)
        self.target_epsilon = target_epsilon
        self.target_delta = target_delta
        self.max_grad_norm = max_grad_norm
        self.sample_rate = sample_rate
        self.accountant = accountant
        self.grad_sample_mode = grad_sample_mode

    def fit(self, X, y, **fit_params):
        """Train once with DP-SGD; see :class:`NetClassifier.fit`.

        Raises
        ------
        ValueError
            With ``warm_start=True`` on a fitted model.
        """
        _opacus()
        if self.train_split is not None:
            raise ValueError(
                "DPSGDClassifier trains on every record passed to fit and accounts "
                "for them all: set train_split=None and validate on held-out data."
            )
        if self.warm_start and self.initialized_:
            raise ValueError(
                "DPSGDClassifier does not continue training (warm_start=True): the "
                "privacy budget covers one fit. Set warm_start=False."
            )
        try:
            with warnings.catch_warnings():
                # Opacus' hooks on a network whose input needs no gradient
                warnings.filterwarnings(
                    "ignore", message="Full backward hook is firing", category=UserWarning
                )
                return super().fit(X, y, **fit_params)
        finally:
            self._unwrap()

    partial_fit = unavailable_partial_fit("the privacy budget covers one fit.")

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        return _TensorTrainingSet(dataset_train.dataset), dataset_valid

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training=training)
        if not training:
            return iterator
        from opacus.data_loader import DPDataLoader

        if self.sample_rate is None:  # the rate from the batch size
            return DPDataLoader.from_data_loader(iterator, generator=self._dp_generator)
        return DPDataLoader(
            iterator.dataset,
            sample_rate=self.sample_rate_,
            collate_fn=iterator.collate_fn,
            num_workers=iterator.num_workers,
            pin_memory=iterator.pin_memory,
            generator=self._dp_generator,
        )

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        from opacus.grad_sample import GradSampleModule
        from opacus.grad_sample.gsm_exp_weights import GradSampleModuleExpandedWeights
        from opacus.optimizers import DPOptimizer

        n = len(y)
        if self.sample_rate is None:
            batch = n if self.batch_size == -1 else min(self.batch_size, n)
            steps_per_epoch = -(-n // batch)
            self.sample_rate_ = 1.0 / steps_per_epoch
        else:
            self.sample_rate_ = float(self.sample_rate)
            # Opacus' sampler takes floor(1 / rate) steps an epoch
            steps_per_epoch = int(1.0 / self.sample_rate_)
        self.delta_ = 1.0 / n if self.target_delta is None else float(self.target_delta)
        if self.max_epochs > 0:
            self.noise_multiplier_ = _noise_multiplier(
                float(self.target_epsilon),
                self.delta_,
                self.sample_rate_,
                self.max_epochs * steps_per_epoch,
                self.accountant,
            )
        else:
            self.noise_multiplier_ = 0.0
        self.steps_ = 0
        device = torch.device(self.device) if self.device else torch.device("cpu")
        self._dp_generator = torch.Generator(device="cpu").manual_seed(
            self._seed(0xD9)
        )
        noise_generator = torch.Generator(device=device).manual_seed(self._seed(0xD7))
        # The step backpropagates the batch's summed loss, so the per-record
        # gradients come out unscaled; with "mean" Opacus would multiply every
        # per-record gradient by the batch size to undo the mean, a pass over
        # (batch x parameters) values that took about 40% of a step here. The
        # optimizer still averages over the expected batch size, as before.
        if self.grad_sample_mode == "ew":
            self.module_ = GradSampleModuleExpandedWeights(
                self.module_, loss_reduction="sum"
            )
        else:
            self.module_ = GradSampleModule(
                self.module_,
                loss_reduction="sum",
                force_functorch=self.grad_sample_mode == "functorch",
            )
        self.optimizer_ = DPOptimizer(
            self.optimizer_,
            noise_multiplier=self.noise_multiplier_,
            max_grad_norm=self.max_grad_norm,
            expected_batch_size=int(round(n * self.sample_rate_)),
            generator=noise_generator,
        )

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = batch
        yi = yi.to(self.device)
        self.steps_ += 1
        if len(yi) == 0:
            # an empty Poisson batch: no record contributes, the step adds noise
            # only ("ew" cannot run a forward pass on zero records)
            for p in self.module_.parameters():
                if p.requires_grad:
                    p.grad_sample = torch.zeros((0,) + p.shape, dtype=p.dtype,
                                                device=p.device)
            logits = torch.zeros((0, len(self.classes_)), device=self.device)
            return {"loss": torch.zeros((), device=self.device), "y_pred": logits}
        logits = self.infer(Xi, **fit_params)
        self._check_logits(logits)
        loss = self.get_loss(logits, yi, X=Xi, training=True)
        if getattr(self.criterion_, "reduction", "mean") == "mean":
            # the summed loss, as the wrapped module expects (on_train_begin)
            (loss * len(yi)).backward()
        else:
            loss.backward()
        return {"loss": loss, "y_pred": logits}

    def _unwrap(self):
        from opacus.optimizers import DPOptimizer

        module = getattr(self, "module_", None)
        if module is not None and hasattr(module, "_module"):
            if hasattr(module, "_close"):
                module._close()
            self.module_ = module._module
        optimizer = getattr(self, "optimizer_", None)
        if isinstance(optimizer, DPOptimizer):
            self.optimizer_ = optimizer.original_optimizer
        self._dp_generator = None

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._unwrap()
        self.epsilon_ = self._spent_epsilon()
        super().on_train_end(net, X=X, y=y, **kwargs)

    def _spent_epsilon(self):
        if self.steps_ == 0:
            return 0.0
        return _epsilon(
            self.noise_multiplier_, self.sample_rate_, self.steps_, self.accountant,
            self.delta_,
        )
