"""The echo seam's real implementation: speexdsp cancellation plus the barge-in gate, per call.

One object is both the call's echo canceller and its barge-in gate: the gate must see every
frame (it tracks the bot's audio over the echo tail, learns the residual echo level and the noise
floor), and the canceller sees every frame, so :meth:`process` updates both and :meth:`is_caller`
answers for the frame just processed.

The linear canceller needs a few seconds to converge, and the greeting is the first thing a call
plays: until then its residual echo is still loud enough for the VAD and the recognizer to hear
the bot's own words. So, as echo cancellers do after the linear stage (a non-linear processor),
a frame the gate explains as the bot's echo — the bot audible, no caller speech — is replaced by
silence before anything listens to it (attenuation is not enough: WebRTC's VAD calls even a
−100 dBFS copy of speech "speech"); caller speech (and double talk) passes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ivr.audio.aec import AecConfig, SpeexEchoCanceller
from ivr.audio.echo_gate import EchoGate, GateConfig, GateFrame


@dataclass(frozen=True, slots=True)
class EchoSettings:
    tail_ms: int = 300  # the canceller's filter length
    gate_tail_ms: int = 600  # how long after the bot played its echo may still arrive
    margin_db: float = 6.0
    hangover_ms: int = 200
    residual_suppression: bool = False
    suppress_echo: bool = True  # echo-only frames become silence after the canceller

    def aec(self, rate: int) -> AecConfig:
        return AecConfig(rate=rate, tail_ms=self.tail_ms,
                         residual_suppression=self.residual_suppression)

    def gate(self) -> GateConfig:
        return GateConfig(tail_ms=max(self.tail_ms, self.gate_tail_ms),
                          margin_db=self.margin_db, hangover_ms=self.hangover_ms)


class SpeexEcho:
    """Canceller + gate of one call at ``rate`` Hz (8 or 16 kHz, 20 ms frames)."""

    def __init__(self, rate: int, settings: EchoSettings | None = None) -> None:
        self.settings = settings or EchoSettings()
        self.rate = rate
        self._aec = SpeexEchoCanceller(self.settings.aec(rate))
        self._gate = EchoGate(self.settings.gate())
        self._last: GateFrame | None = None
        self._last_cleaned = b""
        self.suppressed_frames = 0

    def process(self, caller: bytes, played: bytes) -> bytes:
        cleaned = self._aec.process(caller, played)
        self._last = self._gate.update(caller, played, cleaned)
        if self._last.explained and self.settings.suppress_echo:
            cleaned = bytes(len(cleaned))
            self.suppressed_frames += 1
        self._last_cleaned = cleaned
        return cleaned

    def is_caller(self, caller: bytes, cleaned: bytes, played: bytes) -> bool:
        if self._last is not None and cleaned == self._last_cleaned:
            return self._last.caller
        # A frame that did not pass through process(): judge it on its own.
        return self._gate.update(caller, played, cleaned).caller

    @property
    def last(self) -> GateFrame | None:
        return self._last

    def reset(self) -> None:
        self._aec.reset()
        self._gate = EchoGate(self.settings.gate())
        self._last = None

    def close(self) -> None:
        self._aec.close()


def speex_echo_factory(settings: EchoSettings) -> Callable[[int], SpeexEcho]:
    """A per-call constructor (given the call's media rate) for the wiring."""
    return lambda rate: SpeexEcho(rate, settings)


def speex_echo_pair(settings: EchoSettings) -> Callable[[int], tuple[SpeexEcho, SpeexEcho]]:
    """The call's canceller and gate: one object in both roles."""

    def make(rate: int) -> tuple[SpeexEcho, SpeexEcho]:
        echo = SpeexEcho(rate, settings)
        return echo, echo

    return make
