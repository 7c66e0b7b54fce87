"""The softphone's parts: recorder (utterance cuts, turn timing, matching, fixture files),
transcript lines, and the microphone/speaker on real PortAudio devices made of files.

The whole softphone against the real server: ``tests/e2e/test_softphone_call.py``."""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np

from ivr.audio.endpoint import EndpointConfig
from ivr.audio.mulaw import pcm16_to_ulaw
from ivr.audio.resample import resample
from ivr.audio.vad import WebRtcVad
from ivr.core.types import Language
from ivr.sim.fixtures import render_key
from ivr.sim.phone import FRAME, SILENCE
from ivr.sim.recorder import (
    Hangup,
    TurnRecorder,
    Utterance,
    build_script,
    match_turns,
    write_fixture,
)
from ivr.sim.script import load_script
from ivr.sim.softphone import format_turn
from ivr.sim.wavio import voiced_span_ms
from tests.sim.sound_files import (
    RATE,
    chunk_rms,
    espeak_pcm,
    needs_portaudio,
    silence,
    write_asoundrc,
)


def ulaw_ticks(pcm8k: bytes) -> list[bytes]:
    ulaw = pcm16_to_ulaw(pcm8k)
    ulaw += b"\xff" * (-len(ulaw) % FRAME)
    return [ulaw[i : i + FRAME] for i in range(0, len(ulaw), FRAME)]


def phrase_8k(text: str, tmp: Path) -> bytes:
    return resample(espeak_pcm(text, tmp=tmp), RATE, 8000)


def recorder() -> TurnRecorder:
    return TurnRecorder(WebRtcVad(8000, 2), EndpointConfig())


def feed(rec: TurnRecorder, ticks: int = 0, *, bot: bool = False,
         caller: list[bytes] | None = None) -> None:
    for frame in caller if caller is not None else [SILENCE] * ticks:
        rec.tick(frame, bot)


def test_recorder_cuts_turns_after_the_bot_and_over_it(tmp_path: Path) -> None:
    shi, meiyoule = phrase_8k("是", tmp_path), phrase_8k("没有了", tmp_path)
    rec = recorder()
    feed(rec, 60, bot=True)  # the greeting: 1.2 s
    feed(rec, 50)  # 1 s of quiet; the simulator calls the bot done at tick 60 + 35
    feed(rec, caller=ulaw_ticks(shi))
    feed(rec, 40)
    feed(rec, 30, bot=True)  # the bot replies; 600 ms in, the caller talks over it
    talk = ulaw_ticks(meiyoule)
    for i, frame in enumerate(talk):
        rec.tick(frame, i < 30)
    feed(rec, 40)
    assert len(rec.utterances) == 2
    first, second = rec.utterances
    voiced_from, voiced_to = voiced_span_ms(shi)
    assert first.start <= 110 + voiced_from // 20 <= first.start + 12
    assert first.barge_in_ms is None
    assert first.silence_ms == (first.start - 95) * 20
    assert first.end - first.start >= (voiced_to - voiced_from) // 20
    assert len(first.pcm) == (first.end - first.start) * 320
    assert second.barge_in_ms is not None and 400 <= second.barge_in_ms <= 600 + 40 * 20
    assert second.silence_ms == 0
    assert second.decided > second.end > second.start >= first.end


def test_turn_before_the_bot_speaks_again_and_hangups(tmp_path: Path) -> None:
    shi = phrase_8k("是", tmp_path)
    rec = recorder()
    feed(rec, 50, bot=True)
    feed(rec, 10)  # speaks 200 ms after the bot stopped: before it counts as done
    feed(rec, caller=ulaw_ticks(shi))
    feed(rec, 60)  # then again, the bot having said nothing since
    feed(rec, caller=ulaw_ticks(shi))
    feed(rec, 40)
    first, second = rec.utterances
    assert first.barge_in_ms == 50 * 20
    assert first.silence_ms == (first.start - 50) * 20
    assert second.barge_in_ms == 0
    assert second.silence_ms == (second.start - first.end) * 20
    feed(rec, 20, bot=True)
    rec.hang_up()
    assert rec.hangup is not None and rec.hangup.barge_in_ms == 20 * 20
    feed(rec, 50)
    rec.hang_up()
    assert rec.hangup.barge_in_ms is None  # after the bot finished: a plain hang-up


def test_match_turns_skips_unanswered_utterances() -> None:
    utts = [Utterance(0, 10, d) for d in (100, 200, 300)]
    assert match_turns(utts, [150, 320]) == [0, 2]
    assert match_turns(utts, [400, 400]) == [1, 2]
    assert match_turns(utts, [90]) == [0]  # within the tolerance
    assert match_turns(utts, [40, 350]) == [None, 2]
    assert match_turns([], [10]) == [None]


def test_fixture_round_trip(tmp_path: Path) -> None:
    utts = [Utterance(10, 40, 50, bytes(30 * 320), None, 400),
            Utterance(60, 80, 90, bytes(20 * 320), 1200, 0),
            Utterance(100, 110, 120, bytes(10 * 320))]
    record = {"outcome": "escalated", "escalation_reason": "agent_request",
              "turns": [{"role": "bot", "text": "您好"},
                        {"role": "caller", "text": "是", "source": "speech"},
                        {"role": "bot", "text": "好的"},
                        {"role": "caller", "text": "转人工", "source": "speech"}]}
    content, wavs = build_script(name="mine", lang=Language.ZH, customer={"title": "张先生"},
                                 record=record, utterances=utts, matched=[0, 1],
                                 hangup=Hangup(130, 300))
    path = write_fixture(tmp_path / "mine", content, wavs)
    script = load_script(path)
    assert [t.say for t in script.turns] == ["是", "转人工", None]
    assert [t.wav.name if t.wav else None for t in script.turns] == ["01.wav", "02.wav", None]
    assert [t.barge_in_ms for t in script.turns] == [None, 1200, 300]
    assert [t.silence_ms for t in script.turns] == [400, 0, 0]
    assert script.turns[-1].hangup
    assert script.expect == {"outcome": "escalated", "heard": ["是", "转人工"],
                             "escalation_reason": "agent_request"}
    assert script.customer == {"title": "张先生"}
    with wave.open(str(tmp_path / "mine" / "01.wav"), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == 30 * 160
    stamps = json.loads((tmp_path / "mine" / ".render.json").read_text(encoding="utf-8"))
    assert stamps == {"01.wav": render_key("是", Language.ZH),
                      "02.wav": render_key("转人工", Language.ZH)}


def test_transcript_lines() -> None:
    bot = format_turn({"role": "bot", "text": "您好", "latency_ms": 812.4, "tts_ms": 20.0})
    assert bot == "  bot  : 您好   (reply latency 812 ms, tts 20 ms)"
    caller = format_turn({"role": "caller", "text": "是", "source": "speech", "asr_ms": 31.0,
                          "barge_in": True})
    assert caller == "  heard: 是   (asr 31 ms, barge-in)"


DEVICE_CHECK = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
    from ivr.sim.soundio import MicSource, SpeakerSink, list_devices

    mic = MicSource()
    mic.start()
    time.sleep(0.5)  # not consuming: the unpaced file device must not be drained
    queued = 0
    while mic.next_frame() is not None:
        queued += 1
    frames = []
    deadline = time.monotonic() + 10
    while len(frames) < 100 and time.monotonic() < deadline:
        frame = mic.next_frame()
        if frame is None:
            time.sleep(0.005)
        else:
            frames.append(frame)
    mic.stop()
    pcm = np.frombuffer(ulaw_to_pcm16(b"".join(frames)), dtype="<i2")
    spectrum = np.abs(np.fft.rfft(pcm[2000:6000].astype(float)))
    peak_hz = float(np.argmax(spectrum)) * 8000 / 4000

    speaker = SpeakerSink()
    speaker.start()
    t = np.arange(160 * 50) / 8000
    tone = pcm16_to_ulaw((6000 * np.sin(2 * np.pi * 300 * t)).astype("<i2").tobytes())
    for i in range(50):
        speaker.play(tone[i * 160 : (i + 1) * 160])
    for _ in range(25):
        speaker.play(b"")
    speaker.stop()
    print(json.dumps({"devices": list_devices(), "queued": queued, "frames": len(frames),
                      "mic_rate": mic.rate, "speaker_rate": speaker.rate,
                      "peak_hz": peak_hz, "errors": [str(mic.error), str(speaker.error)]}))
""")


def test_microphone_and_speaker_on_alsa_file_devices(tmp_path: Path) -> None:
    needs_portaudio()
    mic_raw, speaker_raw = tmp_path / "mic.raw", tmp_path / "speaker.raw"
    t = np.arange(RATE * 3) / RATE
    tone = (8000 * np.sin(2 * math.pi * 440 * t)).astype("<i2").tobytes()
    mic_raw.write_bytes(tone + silence(20_000))
    env = write_asoundrc(tmp_path / "home", mic_raw, speaker_raw)
    proc = subprocess.run([sys.executable, "-c", DEVICE_CHECK], env=env, capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "mic" in out["devices"] and "speaker" in out["devices"]
    assert out["errors"] == ["None", "None"]
    assert (out["mic_rate"], out["speaker_rate"]) == (RATE, RATE)
    assert out["queued"] <= 8, "the reader waits for the call clock"
    assert out["frames"] == 100
    assert abs(out["peak_hz"] - 440) <= 4, "the microphone tone reached the 8 kHz frames"
    played = speaker_raw.read_bytes()
    rms = chunk_rms(played)
    loud = int(np.sum(rms > 2000))
    assert 45 <= loud <= 52, f"about 1 s of the bot's tone was played ({loud} loud chunks)"
    assert len(played) >= RATE * 2 * 1.4  # primer + 75 ticks of audio/silence


async def test_pluggable_source_and_sink_keep_the_clock_semantics() -> None:
    """PhoneSimulator.run with a custom caller source and bot sink, against a stand-in media
    server: caller frames come from the source; bot audio reaches the sink one frame per tick;
    the mark is echoed only after the audio before it was played; clear drops the rest."""
    import base64

    from aiohttp import WSMsgType, web

    from ivr.sim.phone import LiveCall, PhoneSimulator, SimOptions
    from ivr.sim.script import CallScript

    got: list[bytes] = []
    events: list[tuple[str, int]] = []
    played: list[bytes] = []

    async def voice(request: web.Request) -> web.Response:
        return web.Response(text='<Response><Connect><Stream url="ws://x/media">'
                                 '<Parameter name="lang" value="zh"/></Stream></Connect>'
                                 '</Response>', content_type="text/xml")

    async def media(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sid = ""
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data["event"] == "start":
                sid = data["streamSid"]
                bot = base64.b64encode(b"\x10" * FRAME * 10).decode()
                await ws.send_json({"event": "media", "streamSid": sid,
                                    "media": {"payload": bot}})
                await ws.send_json({"event": "mark", "streamSid": sid,
                                    "mark": {"name": "m1"}})
                await ws.send_json({"event": "media", "streamSid": sid,
                                    "media": {"payload": base64.b64encode(
                                        b"\x20" * FRAME * 50).decode()}})
            elif data["event"] == "media":
                got.append(base64.b64decode(data["media"]["payload"]))
                if len(got) == 15:
                    await ws.send_json({"event": "clear", "streamSid": sid})
            elif data["event"] in ("mark", "stop"):
                name = data["mark"]["name"] if data["event"] == "mark" else "stop"
                events.append((name, len(played)))
                if data["event"] == "stop":
                    break
        return ws

    app = web.Application()
    app.router.add_post("/twilio/voice", voice)
    app.router.add_get("/media", media)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    counter = iter(range(1000))

    def source() -> tuple[bytes, bool]:
        return bytes([next(counter) % 200]) * FRAME, False

    enough = asyncio.Event()

    def sink(frame: bytes) -> None:
        played.append(frame)
        if len(played) >= 30:
            enough.set()

    async def drive(live: LiveCall) -> None:
        await enough.wait()
        await live.hangup()

    try:
        sim = PhoneSimulator(SimOptions(base_url=f"http://127.0.0.1:{port}", auth_token="t"))
        result = await sim.run(CallScript("t", Language.ZH, ()), drive, source=source,
                               sink=sink, record=False)
    finally:
        await runner.cleanup()
    assert [g[0] for g in got[:20]] == list(range(20)), "caller frames come from the source"
    first = next(i for i, p in enumerate(played) if p)  # the clock ticks before audio arrives
    assert played[first : first + 10] == [b"\x10" * FRAME] * 10
    assert played[first + 10] == b"\x20" * FRAME
    name, at = events[0]
    assert name == "m1" and first + 10 <= at <= first + 12, "echoed once the audio played"
    bot_frames = [p for p in played if p]
    assert 10 < len(bot_frames) < 25, "clear dropped the unplayed audio"
    assert played[-1] == b""
    assert result.ended_by == "caller" and events[-1][0] == "stop"
    assert result.clears == 1 and result.marks_echoed == 1
