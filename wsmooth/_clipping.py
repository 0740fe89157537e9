"""The running median of recent gradient norms that relative clipping bounds by.

``clip_grad_relative`` compares each step's gradient norm with the median of
the previous steps' norms. Re-sorting the window every step and reading each
norm on the host (a synchronisation on a GPU) would cost more than the clipping
itself; :class:`RecentMedian` keeps the window sorted as it goes on the CPU,
and on other devices keeps it in a tensor there, so that no step waits for
the device.
"""

import bisect
import collections
import math

import torch

__all__ = ["RecentMedian"]


class RecentMedian:
    """Median of the last ``window`` finite values, once ``min_count`` are in.

    On the CPU the values are read as Python floats (free there) and kept both
    in arrival order and sorted, so the median is a look-up: exactly
    :func:`statistics.median` of the last ``window`` finite values. On any
    other device they stay in a ring buffer there and the median is
    :func:`torch.nanquantile` (``"midpoint"``, the same mean of the two middle
    values) of it: no host synchronisation, at one difference: a non-finite
    value takes a slot of the window (stored as NaN, ignored by the median and
    the count) instead of being skipped.

    Parameters
    ----------
    window : int
    min_count : int
    """

    def __init__(self, window, min_count):
        self.window = window
        self.min_count = min_count
        self._order = collections.deque()
        self._sorted = []
        self._buffer = None
        self._slot = 0

    def __len__(self):
        """Number of finite values in the window (a synchronisation off the CPU)."""
        if self._buffer is not None:
            return int((~torch.isnan(self._buffer)).sum())
        return len(self._order)

    def values(self):
        """The finite values of the window, oldest first, as floats."""
        if self._buffer is not None:
            ordered = torch.roll(self._buffer, -self._slot)
            return [v for v in ordered.tolist() if not math.isnan(v)]
        return list(self._order)

    def bound(self, limit, factor):
        """``min(limit, factor * median)``, or ``limit`` while fewer than
        ``min_count`` values are in: a float, or a 0-d tensor off the CPU."""
        if self._buffer is not None:
            count = (~torch.isnan(self._buffer)).sum()
            median = torch.nanquantile(self._buffer, 0.5, interpolation="midpoint")
            relative = torch.clamp(factor * median, max=limit)
            return torch.where(count >= self.min_count, relative, limit)
        n = len(self._sorted)
        if n < self.min_count:
            return limit
        middle = n // 2
        if n % 2:
            median = self._sorted[middle]
        else:
            median = (self._sorted[middle - 1] + self._sorted[middle]) / 2
        return min(limit, factor * median)

    def add(self, value):
        """Append a 0-d tensor ``value`` (non-finite ones are left out)."""
        # the device of the first value decides (one fit trains on one device)
        if self._buffer is not None or (value.device.type != "cpu" and not self._order):
            self._add_on_device(value)
            return
        value = float(value)
        if not math.isfinite(value):
            return
        if len(self._order) == self.window:
            old = self._order.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self._order.append(value)
        bisect.insort(self._sorted, value)

    def _add_on_device(self, value):
        if self._buffer is None:
            self._buffer = torch.full(
                (self.window,), math.nan, dtype=torch.float64, device=value.device
            )
        value = value.detach().to(torch.float64)
        self._buffer[self._slot] = torch.where(
            torch.isfinite(value), value, torch.full_like(value, math.nan)
        )
        self._slot = (self._slot + 1) % self.window
