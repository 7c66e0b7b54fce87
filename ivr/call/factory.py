"""Builds one ``CallSession`` per media stream from the shared, long-lived parts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from ivr.asr.base import AsrEngine
from ivr.audio.endpoint import EndpointConfig
from ivr.audio.vad import WebRtcVad
from ivr.call.asr_stream import CallerAsr
from ivr.call.listener import Listener, ListenerEvent
from ivr.call.playback import Playback
from ivr.call.prompts import PromptBook
from ivr.call.session import CallInfo, CallSession, Dialogue, HandoffHandler, SessionPolicy, Speech
from ivr.call.sink import CodecSink
from ivr.core.audio import TELEPHONY_RATE
from ivr.core.types import Expectation
from ivr.customers.verifier import CallIdentity, IdentityVerifier
from ivr.metrics import Metrics
from ivr.store.base import Store
from ivr.telephony.base import MediaCodec


@dataclass(frozen=True)
class SessionFactory:
    engine: AsrEngine
    executor: Executor
    dialogue: Dialogue
    speech: Speech
    store: Store
    prompts: PromptBook
    handoff: HandoffHandler
    policy: SessionPolicy
    endpoint: EndpointConfig
    vad_aggressiveness: int
    metrics: Metrics
    identity: IdentityVerifier | None = None

    def __call__(self, info: CallInfo, codec: MediaCodec,
                 send: Callable[[str], Awaitable[None]],
                 close: Callable[[], Awaitable[None]]) -> CallSession:
        holder: list[CallSession] = []

        def open_stream() -> CallerAsr:
            expect = holder[0].expect if holder else None
            return CallerAsr(self.engine, self.executor, info.language,
                             expect or Expectation.OPEN, self.metrics)

        def listener(emit: Callable[[ListenerEvent], None]) -> Listener:
            vad = WebRtcVad(TELEPHONY_RATE, self.vad_aggressiveness)
            return Listener(vad, self.endpoint, open_stream, emit)

        playback = Playback(
            CodecSink(codec, info.stream_sid, send),
            on_first_frame=lambda turn, at: holder[0].first_frame_sent(turn, at),
        )
        session = CallSession(
            info, listener_factory=listener, playback=playback, dialogue=self.dialogue,
            speech=self.speech, store=self.store, prompts=self.prompts, handoff=self.handoff,
            policy=self.policy, close_media=close, metrics=self.metrics,
            identity=None if self.identity is None
            else CallIdentity(self.identity, info.customer_id),
        )
        holder.append(session)
        return session
