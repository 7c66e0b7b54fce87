"""The phone simulator over Asterisk (emulator + the real Asterisk adapter) against a tiny
stand-in IVR that greets, waits for the caller's words and answers: the script's turns are
said, the bot's audio heard, keypad digits and hang-up reach the IVR."""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ivr.core.types import Language
from ivr.sim.asterisk import AsteriskEmulator
from ivr.sim.asterisk_phone import AsteriskPhone
from ivr.sim.phone import SimOptions
from ivr.sim.script import CallerTurn, CallScript
from ivr.sim.wavio import write_wav
from ivr.telephony.asterisk.adapter import AsteriskAdapter
from ivr.telephony.asterisk.control import AsteriskSettings
from ivr.telephony.provider import (
    Admission,
    AudioIn,
    CallIdentity,
    CallStatusUpdate,
    DigitIn,
    MediaChannel,
    StreamEnded,
)

TONE = b"".join(struct.pack("<h", int(6000 * math.sin(i / 3))) for i in range(160))


class MiniIvr:
    """Greets (0.4 s of tone), then answers each caller utterance (energy, then 300 ms of
    quiet) and the second digit with 0.3 s of tone."""

    def __init__(self) -> None:
        self.digits: list[str] = []
        self.utterances = 0
        self.params: dict[str, str] = {}

    async def call_arrived(self, identity: CallIdentity) -> Admission:
        self.params = dict(identity.params)
        return Admission(True, "zh")

    async def call_status(self, provider: str, update: CallStatusUpdate) -> None:
        return None

    async def media_connected(self, channel: MediaChannel) -> None:
        await channel.start()
        out: asyncio.Queue[bytes] = asyncio.Queue()
        pacer = asyncio.create_task(self._pace(channel, out))
        for _ in range(20):
            out.put_nowait(TONE)
        voiced = quiet = 0
        try:
            async for event in channel.events():
                if isinstance(event, DigitIn):
                    self.digits.append(event.digit)
                    if len(self.digits) == 2:
                        for _ in range(15):
                            out.put_nowait(TONE)
                elif isinstance(event, AudioIn):
                    loud = max(abs(v) for v in struct.unpack("<160h", event.pcm)) > 2000
                    voiced, quiet = (voiced + 1, 0) if loud else (voiced, quiet + 1)
                    if voiced >= 5 and quiet >= 15:
                        voiced = quiet = 0
                        self.utterances += 1
                        for _ in range(15):
                            out.put_nowait(TONE)
                elif isinstance(event, StreamEnded):
                    break
        finally:
            pacer.cancel()

    @staticmethod
    async def _pace(channel: MediaChannel, out: asyncio.Queue[bytes]) -> None:
        while True:
            frame = await out.get()
            await channel.send_audio(frame)
            await asyncio.sleep(0.02)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[AsteriskPhone, MiniIvr, Path]]:
    emu = AsteriskEmulator(user="ivr", password="pw")
    url = await emu.start()
    ivr = MiniIvr()
    adapter = AsteriskAdapter(AsteriskSettings(ari_url=url, ari_user="ivr", ari_password="pw",
                                               audiosocket_port=0))
    await adapter.start(ivr)
    await emu.wait_subscribed()
    options = SimOptions(base_url="http://127.0.0.1:9", auth_token="-", quiet_ms=300,
                         turn_timeout_s=10)
    yield AsteriskPhone(options, emu), ivr, tmp_path
    await adapter.close()
    await emu.close()


async def test_a_scripted_call_over_asterisk(rig: tuple[AsteriskPhone, MiniIvr, Path]) -> None:
    phone, ivr, tmp = rig
    speech = tmp / "hello.wav"
    write_wav(speech, b"".join([b"\x00" * 320 * 5, TONE * 25, b"\x00" * 320 * 5]))
    script = CallScript("t", Language.ZH, (CallerTurn(say="hello", wav=speech),
                                           CallerTurn(digits="12"), CallerTurn(hangup=True)),
                        customer={"id": "c1"})
    result = await phone.call(script, record=False)
    assert not result.errors, result.errors
    assert ivr.params == {"lang": "zh", "customer_id": "c1"}
    assert ivr.utterances == 1 and ivr.digits == ["1", "2"]
    assert result.greeting_ms is not None and result.greeting_ms < 1000
    speech_turn = result.turns[0]
    assert speech_turn.kind == "speech" and speech_turn.latency_ms is not None
    assert 250 <= speech_turn.latency_ms < 1500  # the stand-in waits for 300 ms of quiet
    assert result.ended_by == "caller"
    assert result.bot_frames >= 20 + 15
