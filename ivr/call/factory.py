"""Builds one call's driver from the shared, long-lived parts and the call's media channel."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivr.asr.base import AsrEngine
from ivr.audio.echo import (
    BargeInGate,
    BargeInGateFactory,
    EchoCanceller,
    EchoCancellerFactory,
    OpenGate,
    PassThroughCanceller,
)
from ivr.audio.endpoint import EndpointConfig
from ivr.audio.reference import PlayedAudio
from ivr.audio.vad import WebRtcVad
from ivr.call.asr_stream import CallerAsr
from ivr.call.controller import CallController
from ivr.call.driver import CallDriver
from ivr.call.listener import CallerStream, Listener
from ivr.call.model import CallContext
from ivr.call.parts import CallMedia, CallParts, Dialogue
from ivr.call.playback import Playback
from ivr.call.policy import CallPolicy
from ivr.call.recorder import CallRecorder
from ivr.call.speaker import Speaker, Speech
from ivr.core.types import Expectation
from ivr.telephony.provider import MediaChannel, MediaStart

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class DriverFactory:
    parts: CallParts
    engine: AsrEngine
    executor: Executor
    dialogue: Dialogue
    speech: Speech
    policy: CallPolicy
    endpoint: EndpointConfig
    vad_aggressiveness: int
    vad_hangover: bool = False
    canceller: EchoCancellerFactory = PassThroughCanceller
    gate: BargeInGateFactory = OpenGate
    # One object per call that is both (a gate that must see every frame the canceller sees).
    echo: Callable[[int], tuple[EchoCanceller, BargeInGate]] | None = None

    def __call__(self, call: CallContext, channel: MediaChannel, start: MediaStart, *,
                 dialogue: Dialogue | None = None, speech: Speech | None = None) -> CallDriver:
        """``dialogue``/``speech`` override the shared ones (a greeting prepared early)."""
        clock = self.parts.clock
        played = PlayedAudio(start.rate)
        holder: list[CallMedia] = []

        def emit(event: object) -> None:
            holder[0].emit(event)  # type: ignore[arg-type]

        def open_stream(expect: Expectation | None,
                        on_partial: Callable[[str], None]) -> CallerStream:
            return CallerAsr(self.engine, self.executor, holder[0].language,
                             expect or Expectation.OPEN, self.parts.metrics, on_partial)

        canceller, gate = self.echo(start.rate) if self.echo is not None else \
            (self.canceller(start.rate), self.gate(start.rate))
        vad = WebRtcVad(start.rate, self.vad_aggressiveness, hangover=self.vad_hangover)
        listener = Listener(start.rate, vad, self.endpoint, open_stream, emit, clock.now,
                            canceller=canceller, gate=gate, played=played)
        playback = Playback(channel.send_audio, rate=start.rate, frame_ms=start.frame_ms,
                            clock=clock, played=played, report=emit, lead_ms=start.lead_ms)
        media = CallMedia(
            channel=channel, listener=listener, playback=playback,
            speaker=Speaker(speech or self.speech, call.language, start.rate, playback, clock),
            dialogue=dialogue or self.dialogue,
            recorder=CallRecorder(self.parts.store, call.call_id), language=call.language,
        )
        holder.append(media)
        return CallDriver(call, CallController(self.policy, self.parts.prompts), self.parts,
                          media)
