"""PCM16 sample-rate conversion with soxr: a stateful per-direction stream and a one-shot helper."""

from __future__ import annotations

import numpy as np
import soxr

from ivr.core.audio import SAMPLE_WIDTH


def _samples(pcm: bytes) -> np.ndarray:
    if len(pcm) % SAMPLE_WIDTH:
        raise ValueError("PCM16 data must have an even number of bytes")
    return np.frombuffer(pcm, dtype="<i2")


def _check_rates(in_rate: int, out_rate: int) -> None:
    if in_rate <= 0 or out_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")


class StreamResampler:
    """Stateful PCM16 resampler for one direction of one call.

    Feed chunks of any even length with :meth:`process`; call :meth:`flush` once at the end
    to get the filter's tail. soxr's HQ filter emits output in blocks: at 8→16 kHz with 20 ms
    input, nothing for the first 120 ms, then ~104 ms every ~100 ms. Run latency-critical VAD
    on the input side, or pass ``quality="QQ"`` (no block delay, no anti-alias filter).
    """

    def __init__(self, in_rate: int, out_rate: int, quality: str = "HQ") -> None:
        _check_rates(in_rate, out_rate)
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._passthrough = in_rate == out_rate
        self._stream = (
            None
            if self._passthrough
            else soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16", quality=quality)
        )
        self._flushed = False

    def process(self, pcm: bytes) -> bytes:
        """Resample one chunk; returns whatever output is ready."""
        samples = _samples(pcm)
        if self._flushed:
            raise RuntimeError("StreamResampler already flushed")
        if self._stream is None:
            return pcm
        out = self._stream.resample_chunk(samples, last=False)
        return np.asarray(out, dtype="<i2").tobytes()

    def flush(self) -> bytes:
        """Drain the filter tail; the resampler cannot be used afterwards."""
        if self._flushed:
            return b""
        self._flushed = True
        if self._stream is None:
            return b""
        out = self._stream.resample_chunk(np.zeros(0, dtype=np.int16), last=True)
        return np.asarray(out, dtype="<i2").tobytes()


def resample(pcm: bytes, in_rate: int, out_rate: int, quality: str = "HQ") -> bytes:
    """Resample a whole PCM16 buffer at once."""
    _check_rates(in_rate, out_rate)
    samples = _samples(pcm)
    if in_rate == out_rate or samples.size == 0:
        return pcm
    out = soxr.resample(samples, in_rate, out_rate, quality=quality)
    return np.asarray(out, dtype="<i2").tobytes()
