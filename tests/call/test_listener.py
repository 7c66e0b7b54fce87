"""The caller-audio path: real espeak-ng speech (PCM16 at 8 kHz, as a provider channel gives
it) through the echo seam and a real WebRTC VAD; the endpointing silence the controller asks
for; the recognizer stream with pre-roll. Time is a virtual clock advanced per frame."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from ivr.asr.base import AsrResult
from ivr.asr.vosk_engine import VoskEngine
from ivr.audio.echo import OpenGate, PassThroughCanceller
from ivr.audio.endpoint import EndpointConfig
from ivr.audio.reference import PlayedAudio
from ivr.audio.resample import line_to_recognizer
from ivr.audio.vad import WebRtcVad
from ivr.call import events as e
from ivr.call.asr_stream import CallerAsr
from ivr.call.listener import PREROLL_MS, Listener, ListenerEvent
from ivr.call.model import ListenMode
from ivr.core.audio import ASR_RATE, TELEPHONY_RATE
from ivr.core.types import Expectation, Language
from ivr.metrics import Metrics
from ivr.sim.wavio import voiced_span_ms

Speech8k = Callable[[str, str], bytes]
CHUNK = 320  # 20 ms of PCM16 at 8 kHz, as a channel delivers it
TINY_ZH = Path(__file__).resolve().parents[3] / "shared" / "models" / "tiny-zh"
ENDPOINT = EndpointConfig(min_speech_ms=120, end_silence_ms=450, no_input_ms=1000)
T0 = 50.0


def silence(ms: int) -> bytes:
    return b"\x00\x00" * (TELEPHONY_RATE * ms // 1000)


def chunks(pcm8k: bytes) -> Iterator[bytes]:
    for i in range(0, len(pcm8k), CHUNK):
        yield pcm8k[i : i + CHUNK]


def wide_reference(pcm8k: bytes) -> list[bytes]:
    """What the listener's continuous 8 → 16 kHz resampler makes of the whole line, chunk by
    chunk."""
    up = line_to_recognizer(TELEPHONY_RATE, ASR_RATE)
    return [up.process(c) for c in chunks(pcm8k)]


def find_in_line(fed: bytes, pieces: list[bytes]) -> int:
    """Byte offset where ``fed`` sits in the joined reference, or -1 (soxr dithers: a couple
    of LSB of tolerance)."""
    reference = np.frombuffer(b"".join(pieces), dtype="<i2").astype(np.int32)
    got = np.frombuffer(fed, dtype="<i2").astype(np.int32)
    start = 0
    for piece in pieces:
        seg = reference[start // 2 : start // 2 + len(got)]
        if piece and len(seg) == len(got) and int(np.abs(seg - got).max()) <= 4:
            return start
        start += len(piece)
    return -1


@dataclass
class RecordingStream:
    """A CallerStream that keeps what it is fed (16 kHz PCM16) and answers like CallerAsr."""

    expect: Expectation | None = None
    fed: bytearray = field(default_factory=bytearray)
    finished: bool = False
    cancelled: bool = False

    @property
    def partial(self) -> str:
        return ""

    def feed(self, pcm16: bytes) -> None:
        assert not (self.finished or self.cancelled), "fed after finish/cancel"
        assert len(pcm16) % 2 == 0
        self.fed += pcm16

    async def finish(self) -> AsrResult:
        self.finished = True
        return AsrResult("", is_final=True)

    async def cancel(self) -> None:
        self.cancelled = True


@dataclass
class RecordingCanceller:
    """Keeps every (caller, reference) pair it is given; removes nothing."""

    pairs: list[tuple[bytes, bytes]] = field(default_factory=list)

    def process(self, caller: bytes, played: bytes) -> bytes:
        self.pairs.append((caller, played))
        return caller

    def reset(self) -> None:
        self.pairs.clear()


class EchoGate:
    """Says every speech frame is the bot's own echo."""

    def is_caller(self, caller: bytes, cleaned: bytes, played: bytes) -> bool:
        return False


@dataclass
class Rig:
    listener: Listener
    events: list[ListenerEvent]
    streams: list[RecordingStream]
    played: PlayedAudio
    clock: list[float]

    def push(self, pcm8k: bytes) -> None:
        for chunk in chunks(pcm8k):
            self.clock[0] += 0.02
            self.listener.push(chunk)

    def kinds(self) -> list[type]:
        return [type(ev) for ev in self.events if not isinstance(ev, e.SpeechActivity)]


def make_rig(endpoint: EndpointConfig = ENDPOINT, canceller: object = None,
             gate: object = None) -> Rig:
    events: list[ListenerEvent] = []
    streams: list[RecordingStream] = []
    clock = [T0]
    played = PlayedAudio(TELEPHONY_RATE)

    def open_stream(expect: Expectation | None, on_partial: object) -> RecordingStream:
        streams.append(RecordingStream(expect))
        return streams[-1]

    listener = Listener(TELEPHONY_RATE, WebRtcVad(TELEPHONY_RATE, 2), endpoint, open_stream,
                        events.append, lambda: clock[0],
                        canceller=canceller or PassThroughCanceller(),  # type: ignore[arg-type]
                        gate=gate or OpenGate(), played=played)  # type: ignore[arg-type]
    return Rig(listener, events, streams, played, clock)


def listen(rig: Rig, mode: ListenMode = ListenMode.LISTEN, end_silence_ms: int = 450,
           expect: Expectation | None = Expectation.YES_NO) -> None:
    assert rig.listener.set_mode(mode, expect, end_silence_ms) == []


@pytest.fixture
def shi(speech8k: Speech8k) -> bytes:
    return speech8k("cmn", "是")


def test_espeak_fixture_is_speech(shi: bytes) -> None:
    start, end = voiced_span_ms(shi)
    assert start < 60 and 200 <= end - start <= 600


def test_utterance_in_silence_starts_and_stops_once(shi: bytes) -> None:
    rig = make_rig()
    listen(rig)
    line = silence(1000) + shi + silence(1500)
    voiced_start, voiced_end = voiced_span_ms(shi)
    rig.push(line[: (1000 + voiced_start) * 16])
    assert rig.events == [] and not rig.listener.in_speech
    rig.push(line[(1000 + voiced_start) * 16 :])
    assert rig.kinds() == [e.SpeechStarted, e.SpeechStopped]
    started, stopped = rig.events
    assert isinstance(started, e.SpeechStarted) and isinstance(stopped, e.SpeechStopped)
    onset = T0 + (1000 + voiced_start) / 1000
    assert onset + 0.12 <= started.at <= onset + 0.12 + 0.08
    last_voiced = T0 + (1000 + voiced_end) / 1000
    assert -0.05 <= stopped.last_voiced_at - last_voiced <= 0.15  # the VAD's own hangover
    assert 0.449 <= stopped.at - stopped.last_voiced_at <= 0.471
    assert len(rig.streams) == 1 and rig.listener.take_ended() is rig.streams[0]
    assert rig.streams[0].expect is Expectation.YES_NO
    assert not rig.listener.in_speech and rig.listener.take_ended() is None


def test_a_shorter_end_silence_ends_the_answer_sooner(shi: bytes) -> None:
    rig = make_rig()
    listen(rig)
    rig.push(silence(600) + shi[: len(shi) // 2])
    listen(rig, end_silence_ms=160)  # the controller saw a complete partial
    rig.push(shi[len(shi) // 2 :] + silence(1000))
    stopped = rig.events[-1]
    assert isinstance(stopped, e.SpeechStopped)
    assert 0.159 <= stopped.at - stopped.last_voiced_at <= 0.181


def test_stream_gets_the_utterance_at_16k_with_preroll(shi: bytes) -> None:
    rig = make_rig()
    listen(rig)
    line = silence(1000) + shi + silence(1500)
    rig.push(line)
    fed = bytes(rig.streams[0].fed)
    reference = wide_reference(line)
    assert find_in_line(fed, reference) >= 0, "the recognizer got audio that is not the line"
    voiced_start, voiced_end = voiced_span_ms(fed, ASR_RATE)
    orig_start, orig_end = voiced_span_ms(shi)
    assert abs((voiced_end - voiced_start) - (orig_end - orig_start)) <= 40
    assert PREROLL_MS - 120 <= voiced_start <= PREROLL_MS + 150
    assert len(fed) < sum(map(len, reference))
    assert len(fed) // 32 >= voiced_end - voiced_start + ENDPOINT.end_silence_ms


def test_two_utterances_get_two_streams(speech8k: Speech8k, shi: bytes) -> None:
    rig = make_rig()
    listen(rig)
    bushi = speech8k("cmn", "不是")
    rig.push(silence(600) + shi + silence(1200) + bushi + silence(1200))
    assert rig.kinds() == [e.SpeechStarted, e.SpeechStopped] * 2
    assert len(rig.streams) == 2


def test_ignore_mode_produces_no_events(shi: bytes) -> None:
    rig = make_rig()
    listen(rig, ListenMode.IGNORE)
    rig.push(silence(500) + shi + silence(3000))
    assert rig.events == [] and rig.streams == []


def test_barge_mode_reports_activity_with_the_callers_share(shi: bytes) -> None:
    rig = make_rig()
    listen(rig, ListenMode.BARGE)
    rig.push(silence(500) + shi + silence(800))
    activity = [ev for ev in rig.events if isinstance(ev, e.SpeechActivity)]
    start, end = voiced_span_ms(shi)
    assert activity and activity[-1].speech_ms >= end - start
    assert end - start - 80 <= activity[-1].caller_ms <= end - start + 80


def test_speech_the_gate_explains_is_not_the_callers(shi: bytes) -> None:
    rig = make_rig(gate=EchoGate())
    listen(rig, ListenMode.BARGE)
    rig.push(silence(500) + shi + silence(800))
    activity = [ev for ev in rig.events if isinstance(ev, e.SpeechActivity)]
    assert activity and all(ev.caller_ms == 0 for ev in activity)


def test_canceller_gets_each_frame_with_what_was_played_then() -> None:
    canceller = RecordingCanceller()
    rig = make_rig(canceller=canceller)
    tone = struct.pack("<h", 1234) * 160
    rig.played.played(tone, T0 + 0.1)  # the bot's frame playing during the 6th caller frame
    listen(rig, ListenMode.IGNORE)  # the canceller adapts even when nobody listens
    rig.push(silence(200))
    refs = [played for _, played in canceller.pairs]
    assert len(refs) == 10
    assert refs[5] == tone and all(r == bytes(320) for i, r in enumerate(refs) if i != 5)


def test_switching_to_ignore_drops_the_utterance(shi: bytes) -> None:
    rig = make_rig()
    listen(rig, ListenMode.BARGE)
    rig.push(silence(500) + shi[: 250 * 16])
    assert rig.kinds() == [e.SpeechStarted] and rig.listener.in_speech
    dropped = rig.listener.set_mode(ListenMode.IGNORE, None, None)
    assert dropped == [rig.streams[0]]
    size = len(rig.streams[0].fed)
    rig.push(silence(200))
    assert len(rig.streams[0].fed) == size, "a dropped stream gets no more audio"
    assert not rig.listener.in_speech


# --------------------------------------------------------------- with the real recognizer


@pytest.fixture(scope="module")
def engine() -> VoskEngine:
    if not TINY_ZH.is_dir():
        pytest.skip(f"tiny Vosk model not found at {TINY_ZH}")
    return VoskEngine({Language.ZH: TINY_ZH})


@pytest.mark.parametrize("expect", [Expectation.YES_NO, Expectation.OPEN])
async def test_real_recognizer_hears_shi(
    engine: VoskEngine, shi: bytes, expect: Expectation
) -> None:
    metrics = Metrics()
    events: list[ListenerEvent] = []
    with ThreadPoolExecutor(max_workers=2) as executor:
        listener = Listener(
            TELEPHONY_RATE, WebRtcVad(TELEPHONY_RATE, 2), ENDPOINT,
            lambda ex, cb: CallerAsr(engine, executor, Language.ZH, ex or expect, metrics, cb),
            events.append, lambda: T0, canceller=PassThroughCanceller(), gate=OpenGate(),
            played=PlayedAudio(TELEPHONY_RATE))
        listener.set_mode(ListenMode.LISTEN, expect, 450)
        for i, chunk in enumerate(chunks(silence(800) + shi + silence(1200))):
            listener.push(chunk)
            if i % 5 == 0:
                await asyncio.sleep(0)  # let decoding run, as the media loop would
        kinds = [type(ev) for ev in events]
        assert kinds[0] is e.SpeechStarted and kinds[-1] is e.SpeechStopped
        partials = [ev.text for ev in events if isinstance(ev, e.PartialText)]
        stream = listener.take_ended()
        assert isinstance(stream, CallerAsr)
        result = await asyncio.wait_for(stream.finish(), 10)
    assert result.is_final
    assert result.text == "是"
    assert set(partials) <= {"是", ""}, partials
    assert metrics.asr_audio_s > 0.5
    assert metrics.asr_decode_s > 0


async def test_real_recognizer_cancel(engine: VoskEngine, shi: bytes) -> None:
    events: list[ListenerEvent] = []
    with ThreadPoolExecutor(max_workers=1) as executor:
        listener = Listener(
            TELEPHONY_RATE, WebRtcVad(TELEPHONY_RATE, 2), ENDPOINT,
            lambda ex, cb: CallerAsr(engine, executor, Language.ZH, Expectation.YES_NO,
                                     Metrics(), cb),
            events.append, lambda: T0, canceller=PassThroughCanceller(), gate=OpenGate(),
            played=PlayedAudio(TELEPHONY_RATE))
        listener.set_mode(ListenMode.BARGE, Expectation.YES_NO, 450)
        for chunk in chunks(silence(400) + shi[: 250 * 16]):
            listener.push(chunk)
        (stream,) = listener.drop()
        assert isinstance(stream, CallerAsr)
        await asyncio.wait_for(stream.cancel(), 5)
