"""The running median of relative gradient clipping against statistics.median."""

import math
import statistics

import numpy as np
import pytest
import torch

from wsmooth._clipping import RecentMedian


def _sequence(n, seed=0):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(size=n).astype(np.float32).tolist()
    values[7] = values[3]  # a repeated value: removal must take one copy only
    values[20] = math.nan
    values[33] = math.inf
    return values


@pytest.mark.parametrize("window", [1, 4, 25])
def test_cpu_median_is_statistics_median_of_the_last_finite_values(window):
    recent = RecentMedian(window, min_count=3)
    finite = []
    for value in _sequence(120):
        expected_limit = (
            min(50.0, 2.5 * statistics.median(finite[-window:]))
            if len(finite[-window:]) >= 3
            else 50.0
        )
        assert recent.bound(50.0, 2.5) == expected_limit
        recent.add(torch.tensor(value))
        if math.isfinite(value):
            finite.append(value)
        assert recent.values() == finite[-window:]
        assert len(recent) == len(finite[-window:])


def test_device_buffer_gives_the_same_bounds_on_finite_values():
    # the path for GPUs (a tensor ring buffer, no host synchronisation), run on
    # CPU tensors: the same bounds as the sorted window while every value is
    # finite
    window, values = 25, [v for v in _sequence(120) if math.isfinite(v)]
    cpu, device = RecentMedian(window, 3), RecentMedian(window, 3)
    device._buffer = torch.full((window,), math.nan, dtype=torch.float64)
    for value in values:
        bound = device.bound(50.0, 2.5)
        assert isinstance(bound, torch.Tensor)
        assert bound.item() == cpu.bound(50.0, 2.5)
        cpu.add(torch.tensor(value))
        device.add(torch.tensor(value))
        assert device.values() == cpu.values()
    # a non-finite value takes a slot there, but never counts
    device.add(torch.tensor(math.nan))
    assert len(device) == window - 1
    assert not math.isnan(device.bound(50.0, 2.5).item())
