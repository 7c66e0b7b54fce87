"""The phone simulator over Asterisk: the same caller scripts, through the Asterisk emulator.

An inbound call enters the emulator's dialplan (``Stasis(ivr,lang=…,customer_id=…)``); once the
IVR has answered it and bridged it to an AudioSocket channel, the phone's 20 ms clock sends the
caller's frames as signed-linear audio and plays the bot audio the IVR sends back; keypad digits
are ARI ``ChannelDtmfReceived`` events (and AudioSocket 0x03 messages); hanging up destroys the
channel. Outbound: the IVR originates through ARI, the emulator's callee answers and the script
plays as the callee."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from ivr.audio.mulaw import ulaw_to_pcm16
from ivr.sim.asterisk import AsteriskEmulator, OriginateRequest, PhoneLeg
from ivr.sim.line import BotSink, CallerSource, Line, SimResult, interleave
from ivr.sim.phone import SimOptions
from ivr.sim.script import CallScript
from ivr.sim.turns import drive_script

MEDIA_TIMEOUT_S = 10.0


class AsteriskWire:
    """The caller's side of one emulated Asterisk channel."""

    def __init__(self, emu: AsteriskEmulator, leg: PhoneLeg, result: SimResult) -> None:
        self.emu = emu
        self.leg = leg
        self.result = result

    async def send_audio(self, ulaw: bytes) -> None:
        if self.leg.ended.is_set():
            raise ConnectionError("channel gone")
        await self.emu.send_audio(self.leg, ulaw_to_pcm16(ulaw))

    async def send_dtmf(self, digit: str) -> None:
        await self.emu.press(self.leg, digit)

    async def send_raw(self, raw: str) -> None:
        self.result.errors.append("raw wire messages are Twilio's; skipped over Asterisk")

    async def hangup(self) -> None:
        await self.emu.hang_up(self.leg)

    async def audio_played(self, line: Line) -> None:
        return None


class AsteriskPhone:
    def __init__(self, options: SimOptions, emulator: AsteriskEmulator, *,
                 exten: str = "4000") -> None:
        self.o = options
        self.emu = emulator
        self.exten = exten
        self._base = options.base_url.rstrip("/")

    async def call(self, script: CallScript, *, record: bool = True,
                   before_turn: Callable[[int], Awaitable[None]] | None = None) -> SimResult:
        """An inbound call running ``script`` (language and customer as Stasis arguments)."""
        args = [f"lang={script.lang.value}"]
        args += [f"customer_{k}={v}" for k, v in script.customer.items() if v]
        placed = time.monotonic()
        leg = await self.emu.incoming_call(self.o.from_number, self.exten, args)
        return await self._play(leg, script, before_turn, record=record, placed=placed)

    async def answer(self, script: CallScript, *, verdict: str = "answer",
                     record: bool = False, timeout_s: float = 60.0) -> SimResult | None:
        """Wait for the IVR to originate a call, react (answer, busy, no_answer, failed) and,
        when answered, play ``script`` as the callee. None when not answered."""
        decided: asyncio.Future[OriginateRequest] = asyncio.get_running_loop().create_future()

        async def callee(req: OriginateRequest) -> str:
            if not decided.done():
                decided.set_result(req)
            return verdict

        self.emu.on_originate = callee
        await asyncio.wait_for(asyncio.shield(decided), timeout_s)
        if verdict != "answer":
            return None
        leg = await asyncio.wait_for(self.emu.answered_legs.get(), timeout_s)
        return await self._play(leg, script, None, record=record, placed=time.monotonic())

    async def run(self, script: CallScript, drive: Callable[[Line, AsteriskWire],
                                                            Awaitable[None]],
                  *, source: CallerSource | None = None, sink: BotSink | None = None,
                  record: bool = True) -> SimResult:
        """An inbound call driven by ``drive`` (a microphone, a custom caller)."""
        placed = time.monotonic()
        leg = await self.emu.incoming_call(self.o.from_number, self.exten,
                                           [f"lang={script.lang.value}"])
        return await self._connect(leg, drive, source, sink, record, placed)

    async def _play(self, leg: PhoneLeg, script: CallScript,
                    before_turn: Callable[[int], Awaitable[None]] | None, *,
                    record: bool, placed: float) -> SimResult:
        async def drive(line: Line, wire: AsteriskWire) -> None:
            await drive_script(wire, script, line, wire.result, self.o.pacing, before_turn)

        return await self._connect(leg, drive, None, None, record, placed)

    async def _connect(self, leg: PhoneLeg,
                       drive: Callable[[Line, AsteriskWire], Awaitable[None]],
                       source: CallerSource | None, sink: BotSink | None,
                       record: bool, placed: float) -> SimResult:
        """``placed``: when the call entered Stasis (answer → greeting is measured from it)."""
        result = SimResult(call_sid=leg.channel_id)
        line = self.o.new_line(source, sink)
        line.answered = line.started = placed
        leg.listener = lambda pcm: line.bot_audio(pcm, result)
        waits = [asyncio.ensure_future(leg.media_up.wait()),
                 asyncio.ensure_future(leg.ended.wait())]
        _done, pending = await asyncio.wait(waits, timeout=MEDIA_TIMEOUT_S,
                                           return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if not leg.media_up.is_set():
            result.refused = True
            result.ended_by = "refused"
            if not leg.ended.is_set():
                result.errors.append("the IVR never connected the call's audio")
                await self.emu.hang_up(leg)
        else:
            await self._talk(leg, line, result, drive)
        result.duration_s = time.monotonic() - placed
        if record:
            result.record = await self._fetch_record(leg.channel_id)
        return result

    async def _talk(self, leg: PhoneLeg, line: Line, result: SimResult,
                    drive: Callable[[Line, AsteriskWire], Awaitable[None]]) -> None:
        wire = AsteriskWire(self.emu, leg, result)
        line.started = time.monotonic()  # the audio connected

        async def watch() -> None:
            await leg.ended.wait()
            if not result.ended_by:
                result.ended_by = "server" if leg.ended_by in ("ivr", "transfer") else \
                    leg.ended_by
            line.closed.set()

        clock = asyncio.create_task(line.run_clock(wire, result))
        watcher = asyncio.create_task(watch())
        try:
            await drive(line, wire)
        finally:
            if not leg.ended.is_set():
                await self.emu.hang_up(leg)
            line.closed.set()
            for task in (clock, watcher):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        result.recording = interleave(bytes(line.rec_caller), bytes(line.rec_bot))

    async def _fetch_record(self, call_id: str) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {self.o.api_token}"} if self.o.api_token else {}
        async with aiohttp.ClientSession() as http:
            for _ in range(20):
                async with http.get(f"{self._base}/api/calls/{call_id}", headers=headers) as r:
                    if r.status == 200:
                        data: dict[str, Any] = await r.json()
                        if data.get("ended_at") or data.get("outcome"):
                            return data
                await asyncio.sleep(0.25)
        return None
