"""A simulated echo path for the phone simulator and echo tests: the bot's audio, as played at
the phone, leaks back into the caller's microphone/line through a room or hybrid impulse
response, ``delay_ms`` later and ``level_db`` lower (−25 dB: an ordinary speakerphone or a
2-wire hybrid). Streaming and deterministic (seeded), PCM16 at any rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.core.audio import SAMPLE_WIDTH


@dataclass(frozen=True, slots=True)
class EchoSpec:
    level_db: float = -25.0  # echo power relative to the bot audio played
    delay_ms: int = 60  # bulk delay (line, jitter buffer, loudspeaker → microphone)
    response_ms: int = 30  # length of the impulse response after the direct path
    seed: int = 7

    def __post_init__(self) -> None:
        if not -80.0 <= self.level_db <= 0.0:
            raise ValueError("echo level must be between -80 and 0 dB")
        if not 0 <= self.delay_ms <= 1000:
            raise ValueError("echo delay must be between 0 and 1000 ms")
        if not 1 <= self.response_ms <= 500:
            raise ValueError("echo response must be between 1 and 500 ms")


def impulse_response(spec: EchoSpec, rate: int) -> np.ndarray:
    """Direct path, two discrete reflections and a decaying diffuse tail; unit energy, so
    ``level_db`` alone sets the echo return loss."""
    n = max(1, rate * spec.response_ms // 1000)
    h = np.zeros(n)
    h[0] = 1.0
    for at_ms, gain in ((4, 0.5), (11, -0.3)):
        k = rate * at_ms // 1000
        if k < n:
            h[k] += gain
    rng = np.random.default_rng(spec.seed)
    decay = np.exp(-np.arange(n) / max(1.0, rate * 0.008))
    h += rng.normal(0.0, 0.05, n) * decay
    return h / float(np.sqrt(np.sum(h * h)))


class EchoPath:
    """Feed the bot audio played in each frame; get the echo that reaches the caller's side in
    the same frame (it carries audio played ``delay_ms`` + the response earlier)."""

    def __init__(self, spec: EchoSpec, rate: int) -> None:
        self.spec = spec
        self.rate = rate
        self._h = impulse_response(spec, rate) * 10 ** (spec.level_db / 20)
        self._delay = np.zeros(rate * spec.delay_ms // 1000)
        self._history = np.zeros(len(self._h) - 1)

    def feed(self, played: bytes, samples: int) -> np.ndarray:
        """Echo samples (float) for one frame of ``samples``; ``played`` may be shorter (the
        bot was silent for the rest of the frame)."""
        x = np.zeros(samples)
        got = np.frombuffer(played[: samples * SAMPLE_WIDTH], dtype="<i2")
        x[: len(got)] = got
        # Bulk delay: a FIFO of ``delay`` samples.
        line = np.concatenate([self._delay, x])
        x, self._delay = line[:samples], line[samples:]
        full = np.concatenate([self._history, x])
        y = np.convolve(full, self._h, mode="valid")
        if len(self._history):
            self._history = full[-len(self._history):]
        return y

    def add_to(self, caller: bytes, played: bytes) -> bytes:
        """The caller frame with this frame's echo mixed in (clipped to PCM16)."""
        samples = len(caller) // SAMPLE_WIDTH
        mixed = np.frombuffer(caller, dtype="<i2").astype(np.float64) + self.feed(played, samples)
        out: bytes = np.clip(np.round(mixed), -32768, 32767).astype("<i2").tobytes()
        return out
