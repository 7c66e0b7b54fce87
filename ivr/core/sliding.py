"""A percentile over a sliding window, kept sorted as values come and go."""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque


class SlidingPercentile:
    """The ``percentile`` (0-100) of the last ``size`` values, as ``numpy.percentile`` computes
    it (linear interpolation), in O(log n) per value added and O(1) per read."""

    def __init__(self, size: int, percentile: float) -> None:
        if size <= 0 or not 0 <= percentile <= 100:
            raise ValueError("size must be positive and percentile within 0..100")
        self.percentile = percentile
        self._order: deque[float] = deque(maxlen=size)
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._order)

    def append(self, value: float) -> None:
        if len(self._order) == self._order.maxlen:
            del self._sorted[bisect_left(self._sorted, self._order[0])]
        self._order.append(value)
        insort(self._sorted, value)

    def value(self) -> float:
        values = self._sorted
        if not values:
            raise ValueError("no values yet")
        position = self.percentile / 100 * (len(values) - 1)
        below = math.floor(position)
        above = min(below + 1, len(values) - 1)
        a, b, t = values[below], values[above], position - below
        diff = b - a
        return b - diff * (1 - t) if t >= 0.5 else a + diff * t
