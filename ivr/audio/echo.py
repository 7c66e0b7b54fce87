"""The echo seam of the caller-audio path: an echo canceller and a barge-in gate.

The IVR knows exactly what it played. For every caller frame the call's media path hands the
canceller that frame together with the bot audio the playback sent during the same stretch of
time (the *reference*, same rate and length, zeros when the bot was silent), and feeds the
cleaned frame to the VAD and the recognizer. The reference is taken from the playback's own
send clock, so it leads the echo it explains by the provider's buffering and network delay
(never trails it): an adaptive canceller with a tail of a few hundred milliseconds covers that.

For every frame the VAD calls speech, the barge-in gate says whether it is the caller or only
the bot's own audio coming back; the controller counts only the caller's speech towards a
barge-in. Implementations are per call (they keep adaptive state) and pure (no I/O, no clock).

``PassThroughCanceller`` and ``OpenGate`` are the defaults: no cancellation, all speech counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class EchoCanceller(Protocol):
    """Removes the bot's own audio from the caller's track (one instance per call)."""

    def process(self, caller: bytes, played: bytes) -> bytes:
        """One caller frame (PCM16 mono at the call's media rate) and the bot audio played
        during it (same length; all zeros when nothing played) → the cleaned frame (same
        length)."""
        ...

    def reset(self) -> None:
        """Forget the adaptive state (e.g. the echo path changed after a transfer)."""
        ...


class BargeInGate(Protocol):
    """Decides whether speech heard while the bot talks is the caller's (one per call)."""

    def is_caller(self, caller: bytes, cleaned: bytes, played: bytes) -> bool:
        """For one frame the VAD judged as speech: True unless it is explained by the bot's
        own audio (``caller`` raw, ``cleaned`` after the canceller, ``played`` the
        reference)."""
        ...


# Per-call constructors, given the call's media sample rate (Hz).
EchoCancellerFactory = Callable[[int], EchoCanceller]
BargeInGateFactory = Callable[[int], BargeInGate]


class PassThroughCanceller:
    """No echo cancellation: the caller's frame unchanged."""

    def __init__(self, rate: int = 8000) -> None:
        self.rate = rate

    def process(self, caller: bytes, played: bytes) -> bytes:
        return caller

    def reset(self) -> None:
        return None


class OpenGate:
    """Every frame the VAD calls speech counts as the caller's speech."""

    def __init__(self, rate: int = 8000) -> None:
        self.rate = rate

    def is_caller(self, caller: bytes, cleaned: bytes, played: bytes) -> bool:
        return True
