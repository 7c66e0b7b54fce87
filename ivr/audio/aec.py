"""Acoustic/hybrid echo cancellation for one call, with speexdsp's MDF adaptive filter.

The IVR knows exactly what it played: that audio is the reference. For every caller frame the
canceller gets the bot audio played during the same frame and subtracts the echo the filter has
learned (any delay up to ``tail_ms``). An optional speexdsp preprocessor stage suppresses the
residual echo the linear filter leaves (it is a spectral gain, so it also touches the caller's
voice a little; off by default, the barge-in gate handles residual echo instead).

Frames are PCM16 mono at 8 or 16 kHz, ``frame_ms`` long. One instance per call (the filter state
is the call's echo path); not thread-safe; :meth:`close` frees the C state. A frame the
canceller would make louder than it came (a vanished or changed echo path, double talk that
misled the filter) is returned as it came: the bot's own voice is never put into the line."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from ivr.audio import speexdsp
from ivr.core.audio import SAMPLE_WIDTH

RATES = (8000, 16000)


def _energy(frame: bytes) -> int:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.int64)
    return int(np.dot(samples, samples))


@dataclass(frozen=True, slots=True)
class AecConfig:
    rate: int = 8000
    frame_ms: int = 20
    tail_ms: int = 300  # longest echo delay + impulse response the filter can learn
    residual_suppression: bool = False
    residual_suppress_db: int = -40  # residual echo attenuation while the caller is silent
    residual_suppress_active_db: int = -15  # ... while the caller talks (double talk)
    noise_suppress_db: int = -3  # only used with residual suppression (speex needs it on)

    def __post_init__(self) -> None:
        if self.rate not in RATES:
            raise ValueError(f"echo canceller rate must be one of {RATES}, not {self.rate}")
        if self.frame_ms not in (10, 20):
            raise ValueError("echo canceller frames must be 10 or 20 ms")
        if not self.frame_ms <= self.tail_ms <= 2000:
            raise ValueError("echo tail must be between one frame and 2000 ms")

    @property
    def frame_samples(self) -> int:
        return self.rate * self.frame_ms // 1000

    @property
    def frame_bytes(self) -> int:
        return self.frame_samples * SAMPLE_WIDTH


class SpeexEchoCanceller:
    """Per-call speexdsp echo canceller: ``process(caller, played) -> cleaned`` per frame."""

    def __init__(self, config: AecConfig | None = None) -> None:
        self.config = config or AecConfig()
        lib = speexdsp.load().cdll
        self._lib = lib
        c = self.config
        n = c.frame_samples
        self._echo: int | None = lib.speex_echo_state_init(n, c.rate * c.tail_ms // 1000)
        if not self._echo:
            raise MemoryError("speex_echo_state_init failed")
        speexdsp.ctl_int(lib.speex_echo_ctl, self._echo, speexdsp.ECHO_SET_SAMPLING_RATE,
                         c.rate)
        self._pre: int | None = None
        if c.residual_suppression:
            self._pre = lib.speex_preprocess_state_init(n, c.rate)
            pre_ctl = lib.speex_preprocess_ctl
            speexdsp.ctl_ptr(pre_ctl, self._pre, speexdsp.PREPROCESS_SET_ECHO_STATE, self._echo)
            for request, value in (
                (speexdsp.PREPROCESS_SET_DENOISE, 1),
                (speexdsp.PREPROCESS_SET_NOISE_SUPPRESS, c.noise_suppress_db),
                (speexdsp.PREPROCESS_SET_ECHO_SUPPRESS, c.residual_suppress_db),
                (speexdsp.PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE, c.residual_suppress_active_db),
                (speexdsp.PREPROCESS_SET_AGC, 0),
                (speexdsp.PREPROCESS_SET_VAD, 0),
                (speexdsp.PREPROCESS_SET_DEREVERB, 0),
            ):
                speexdsp.ctl_int(pre_ctl, self._pre, request, value)
        self._out = (ctypes.c_int16 * n)()
        self._silence = bytes(c.frame_bytes)
        self.frames = 0
        self.guarded = 0  # frames returned as given because cancelling would have added

    def process(self, caller: bytes, played: bytes) -> bytes:
        """One frame: the caller's audio and the bot audio played meanwhile (``b""`` or shorter
        than a frame when the bot was silent for part of it). Returns the cleaned caller frame."""
        if self._echo is None:
            raise RuntimeError("echo canceller closed")
        size = self.config.frame_bytes
        if len(caller) != size:
            raise ValueError(f"caller frame of {len(caller)} bytes, expected {size}")
        if len(played) > size:
            raise ValueError(f"played frame of {len(played)} bytes, expected at most {size}")
        if len(played) < size:
            played = played + self._silence[len(played):]
        rec = speexdsp.int16_buffer(caller)
        ref = speexdsp.int16_buffer(played)
        self._lib.speex_echo_cancellation(self._echo, speexdsp.as_i16p(rec),
                                          speexdsp.as_i16p(ref), speexdsp.as_i16p(self._out))
        if self._pre is not None:
            self._lib.speex_preprocess_run(self._pre, speexdsp.as_i16p(self._out))
        self.frames += 1
        out = bytes(self._out)
        if _energy(out) > _energy(caller):
            # Subtracting the learned echo added signal: the echo path has changed or vanished
            # (or double talk misled the filter). Never play the bot's voice into the line.
            self.guarded += 1
            return caller
        return out

    def reset(self) -> None:
        """Forget the learned echo path (e.g. after a transfer to a different line)."""
        if self._echo is not None:
            self._lib.speex_echo_state_reset(self._echo)

    def close(self) -> None:
        if self._pre is not None:
            self._lib.speex_preprocess_state_destroy(self._pre)
            self._pre = None
        if self._echo is not None:
            self._lib.speex_echo_state_destroy(self._echo)
            self._echo = None

    def __del__(self) -> None:
        # A call that forgot close() must not leak the C state.
        if getattr(self, "_echo", None) is not None:
            self.close()
