"""The sliding percentile gives numpy's (linear) percentile of the window, value for value."""

from __future__ import annotations

import random
from collections import deque

import numpy as np
import pytest

from ivr.core.sliding import SlidingPercentile


@pytest.mark.parametrize("size", [1, 2, 5, 250])
@pytest.mark.parametrize("percentile", [0.0, 10.0, 50.0, 90.0, 99.5, 100.0])
def test_matches_numpy_over_a_sliding_window(size: int, percentile: float) -> None:
    rng = random.Random(size * 1000 + int(percentile * 10))
    sliding, window = SlidingPercentile(size, percentile), deque[float](maxlen=size)
    for _ in range(1500):
        # repeated values (ties, the -100 dB floor) as well as spread ones
        value = rng.choice([rng.gauss(-20.0, 8.0), -100.0, float(rng.randint(-30, 0))])
        sliding.append(value)
        window.append(value)
        assert len(sliding) == len(window)
        assert sliding.value() == float(np.percentile(np.fromiter(window, float), percentile))


def test_refuses_bad_arguments_and_empty_reads() -> None:
    with pytest.raises(ValueError):
        SlidingPercentile(0, 50.0)
    with pytest.raises(ValueError):
        SlidingPercentile(10, 101.0)
    with pytest.raises(ValueError):
        SlidingPercentile(10, 50.0).value()
