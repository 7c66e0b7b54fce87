"""The Asterisk provider adapter: ARI events in, calls connected to the IVR over AudioSocket.

A call reaches ``Stasis(app)`` (the dialplan's, or our originate's once answered) →
``StasisStart`` → the IVR is asked (``call_arrived``); refused calls continue in the dialplan
(the administrator's fallback: an announcement, the agents' queue); accepted ones are answered,
put in a mixing bridge with an ``externalMedia`` AudioSocket channel whose UUID is announced to
the AudioSocket server; when Asterisk connects with that UUID the call runs
(``media_connected``). The caller hanging up (``StasisEnd``/``ChannelDestroyed``) ends the
stream; the IVR ending the call hangs the caller up unless it was transferred. Outbound
progress (ringing, answered, busy, no answer) becomes neutral status updates."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import aiohttp

from ivr.core.errors import ProviderApiError
from ivr.telephony.asterisk import ari_events as ev
from ivr.telephony.asterisk.ari_client import AriClient, AriCredentials
from ivr.telephony.asterisk.ari_socket import AriEventStream
from ivr.telephony.asterisk.calls import MEDIA_PREFIX, AsteriskCall, stasis_params
from ivr.telephony.asterisk.channel import AudioSocketChannel
from ivr.telephony.asterisk.control import AsteriskControl, AsteriskSettings
from ivr.telephony.asterisk.server import AudioSocketServer
from ivr.telephony.asterisk.streams import StreamRegistry
from ivr.telephony.provider import (
    CallDirection,
    CallIdentity,
    CallProgress,
    CallSink,
    CallStatusUpdate,
    DigitIn,
    StreamEnded,
)

log = logging.getLogger(__name__)

NAME = "asterisk"


class AsteriskAdapter:
    def __init__(self, settings: AsteriskSettings, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._registry = StreamRegistry()
        self._calls: dict[str, AsteriskCall] = {}
        self._session: aiohttp.ClientSession | None = None
        self._ari: AriClient | None = None
        self._control: AsteriskControl | None = None
        self._sink: CallSink | None = None
        self._server = AudioSocketServer(self._registry, self._on_stream,
                                         peers=settings.peers,
                                         dtmf=settings.dtmf_from == "audiosocket",
                                         max_connections=settings.max_connections,
                                         bounds=settings.wire, clock=clock)
        self._events: AriEventStream | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.audiosocket_port = 0
        self.advertise = settings.advertise

    @property
    def name(self) -> str:
        return NAME

    @property
    def control(self) -> AsteriskControl | None:
        return self._control

    @property
    def events(self) -> AriEventStream | None:
        return self._events

    @property
    def server(self) -> AudioSocketServer:
        return self._server

    def http_routes(self) -> Sequence[Any]:
        return ()

    def socket_routes(self) -> Sequence[Any]:
        return ()

    async def start(self, sink: CallSink) -> None:
        s = self.settings
        self._sink = sink
        self._session = aiohttp.ClientSession()
        creds = AriCredentials(s.ari_user, s.ari_password)
        self._ari = AriClient(self._session, s.ari_url, creds, timeout_s=s.request_timeout_s)
        self._control = AsteriskControl(self._ari, s, self._calls)
        self.audiosocket_port = await self._server.start(s.audiosocket_host, s.audiosocket_port)
        self.advertise = s.advertise or f"{s.audiosocket_host}:{self.audiosocket_port}"
        self._events = AriEventStream(self._session, s.ari_url, s.app, creds, self._on_event)
        self._spawn(self._events.run())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.close()
        if self._session is not None:
            await self._session.close()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- ARI events (handled in order; slow work is spawned) ------------------------------

    async def _on_event(self, event: ev.AriEvent) -> None:
        if isinstance(event, ev.StasisStart):
            await self._stasis_start(event)
            return
        if isinstance(event, ev.OtherEvent):
            return
        chan = event.channel
        if chan.id.startswith(MEDIA_PREFIX):
            return
        call = self._calls.get(chan.id)
        control = self._control
        if isinstance(event, ev.ChannelStateChange):
            if control is not None and control.is_originated(chan.id):
                states = {"Ringing": CallProgress.RINGING, "Up": CallProgress.ANSWERED}
                if chan.state == "Up":
                    control.mark_answered(chan.id)
                if chan.state in states:
                    await self._status(chan.id, states[chan.state], chan.state)
        elif isinstance(event, ev.ChannelDtmfReceived):
            if call is not None and call.media is not None and self.settings.dtmf_from == "ari":
                call.media.inject(DigitIn(event.digit))
        elif isinstance(event, ev.StasisEnd | ev.ChannelHangupRequest):
            if call is not None:
                self._end(call, "transferred" if call.transferred else "hangup")
        elif isinstance(event, ev.ChannelDestroyed):
            if call is not None:
                self._end(call, "hangup")
            if control is not None and control.is_originated(chan.id):
                final = control.final_progress(chan.id, event.cause)
                await self._status(chan.id, final, event.cause_txt or str(event.cause))
                control.forget(chan.id)

    async def _stasis_start(self, event: ev.StasisStart) -> None:
        chan = event.channel
        if chan.id.startswith(MEDIA_PREFIX) or chan.id in self._calls:
            return  # our own AudioSocket channel, or a repeat
        control = self._control
        outbound = control is not None and control.is_originated(chan.id)
        params = control.params_of(chan.id) if control is not None and outbound \
            else stasis_params(event.args)
        call = AsteriskCall(chan.id, outbound=outbound, params=params)
        self._calls[chan.id] = call
        identity = CallIdentity(
            provider=NAME, call_id=chan.id,
            direction=CallDirection.OUTBOUND if outbound else CallDirection.INBOUND,
            from_number=chan.caller_number if not outbound else self.settings.caller_id,
            to_number=chan.exten, params=params)
        self._spawn(self._arrive(call, identity))

    async def _arrive(self, call: AsteriskCall, identity: CallIdentity) -> None:
        assert self._sink is not None and self._ari is not None
        ari = self._ari
        try:
            admission = await self._sink.call_arrived(identity)
            if call.ended:
                return
            if not admission.accepted:
                log.warning("asterisk call %s refused (%s): continuing in the dialplan",
                            call.channel_id[:16], admission.refusal_reason)
                call.transferred = True
                await ari.continue_in_dialplan(call.channel_id)
                return
            params = {**call.params, **admission.stream_params}
            stream_id = self._registry.announce(call.channel_id, params, self._clock())
            call.stream_id = str(stream_id)
            bridge = ari.create_bridge(call.bridge_id)
            if call.outbound:
                await bridge
            else:
                await asyncio.gather(ari.answer(call.channel_id), bridge)
            call.answered = True
            await ari.external_media(call.media_channel_id, app=self.settings.app,
                                     external_host=self.advertise,
                                     stream_id=call.stream_id)
            await ari.add_to_bridge(call.bridge_id, call.channel_id, call.media_channel_id)
        except ProviderApiError as exc:
            log.warning("asterisk call %s: set-up failed: %s", call.channel_id[:16], exc)
            self._end(call, "setup failed")
            await self._status(call.channel_id, CallProgress.FAILED, "setup failed")

    async def _status(self, call_id: str, progress: CallProgress, raw: str) -> None:
        if self._sink is None or self._control is None:
            return
        attempt = self._control.params_of(call_id).get("attempt_id")
        await self._sink.call_status(NAME, CallStatusUpdate(call_id, progress, raw_status=raw,
                                                            attempt_id=attempt))

    def _end(self, call: AsteriskCall, reason: str) -> None:
        """The caller's channel left us: end the stream, release the Asterisk side."""
        if call.ended:
            return
        call.ended = True
        self._registry.forget(call.channel_id)
        if call.media is not None:
            call.media.inject(StreamEnded(reason))
        self._spawn(self._release(call, hang_up_caller=False))

    async def _release(self, call: AsteriskCall, *, hang_up_caller: bool) -> None:
        ari = self._ari
        if ari is None:
            return
        steps = []
        if hang_up_caller and not call.transferred:
            steps.append(ari.hangup(call.channel_id))
        if call.stream_id:
            steps += [ari.hangup(call.media_channel_id), ari.destroy_bridge(call.bridge_id)]
        for result in await asyncio.gather(*steps, return_exceptions=True):
            if isinstance(result, Exception):
                log.info("asterisk call %s: release: %s", call.channel_id[:16], result)
        self._calls.pop(call.channel_id, None)

    # ---- AudioSocket ------------------------------------------------------------------------

    async def _on_stream(self, channel: AudioSocketChannel) -> None:
        call = self._calls.get(channel.call_id)
        if call is None or call.ended or self._sink is None:
            return
        call.media = channel
        try:
            await self._sink.media_connected(channel)
        finally:
            if not call.ended:  # the IVR ended the call: hang the caller up
                call.ended = True
                await self._release(call, hang_up_caller=True)
