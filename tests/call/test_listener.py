"""The caller-audio path: real espeak-ng speech in 20 ms μ-law chunks through a real WebRTC VAD."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from ivr.asr.base import AsrResult
from ivr.asr.vosk_engine import VoskEngine
from ivr.audio.endpoint import EndpointConfig
from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.audio.resample import StreamResampler
from ivr.audio.vad import WebRtcVad
from ivr.call.asr_stream import CallerAsr
from ivr.call.listener import (
    PREROLL_MS,
    Listener,
    ListenerEvent,
    ListenMode,
    NoInput,
    SpeechEnded,
    SpeechStarted,
)
from ivr.core.audio import ASR_RATE, TELEPHONY_RATE
from ivr.core.types import Expectation, Language
from ivr.metrics import Metrics
from ivr.sim.wavio import voiced_span_ms

Speech8k = Callable[[str, str], bytes]
CHUNK = 160  # 20 ms of μ-law at 8 kHz, as the provider sends it
TINY_ZH = Path(__file__).resolve().parents[3] / "shared" / "models" / "tiny-zh"
ENDPOINT = EndpointConfig(min_speech_ms=120, end_silence_ms=450, no_input_ms=1000)


def silence(ms: int) -> bytes:
    return b"\x00\x00" * (TELEPHONY_RATE * ms // 1000)


def chunks(pcm8k: bytes) -> Iterator[bytes]:
    ulaw = pcm16_to_ulaw(pcm8k)
    for i in range(0, len(ulaw), CHUNK):
        yield ulaw[i : i + CHUNK]


def wide_reference(pcm8k: bytes) -> list[bytes]:
    """What a continuous 8 → 16 kHz resampler makes of the whole line, chunk by chunk."""
    up = StreamResampler(TELEPHONY_RATE, ASR_RATE)
    return [up.process(ulaw_to_pcm16(c)) for c in chunks(pcm8k)]


def find_in_line(fed: bytes, pieces: list[bytes]) -> int:
    """Byte offset where ``fed`` sits in the joined reference, or -1.

    Recognizer audio starts at a resampler output boundary. soxr dithers int16 output, so
    two resampler instances differ by a couple of LSB: compare with a small tolerance.
    """
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
class Rig:
    listener: Listener
    events: list[ListenerEvent]
    streams: list[RecordingStream]

    def push(self, pcm8k: bytes) -> None:
        for chunk in chunks(pcm8k):
            self.listener.push_ulaw(chunk)


def make_rig(endpoint: EndpointConfig = ENDPOINT) -> Rig:
    events: list[ListenerEvent] = []
    streams: list[RecordingStream] = []

    def open_stream() -> RecordingStream:
        streams.append(RecordingStream())
        return streams[-1]

    listener = Listener(WebRtcVad(TELEPHONY_RATE, 2), endpoint, open_stream, events.append)
    return Rig(listener, events, streams)


@pytest.fixture
def shi(speech8k: Speech8k) -> bytes:
    return speech8k("cmn", "是")


def test_espeak_fixture_is_speech(shi: bytes) -> None:
    start, end = voiced_span_ms(shi)
    assert start < 60 and 200 <= end - start <= 600


def test_utterance_in_silence_starts_and_ends_once(shi: bytes) -> None:
    rig = make_rig()
    rig.listener.set_mode(ListenMode.LISTEN)
    line = silence(1000) + shi + silence(1500)
    voiced_start, voiced_end = voiced_span_ms(shi)
    rig.push(line[: (1000 + voiced_start) * 16])
    assert rig.events == [] and not rig.listener.in_speech
    rig.push(line[(1000 + voiced_start) * 16 :])

    assert [type(e) for e in rig.events] == [SpeechStarted, SpeechEnded]
    started, ended = rig.events
    assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
    onset = 1000 + voiced_start
    assert onset + ENDPOINT.min_speech_ms <= started.media_ms <= onset + ENDPOINT.min_speech_ms + 80
    voiced_ms = voiced_end - voiced_start
    assert voiced_ms - 40 <= ended.duration_ms <= voiced_ms + 200
    assert ended.last_voiced_wall <= time.monotonic()
    assert len(rig.streams) == 1 and ended.stream is rig.streams[0]
    assert not rig.listener.in_speech and rig.listener.stream is None
    assert rig.listener.media_ms == len(line) // 320 * 20


def test_stream_gets_the_utterance_at_16k_with_preroll(shi: bytes) -> None:
    rig = make_rig()
    rig.listener.set_mode(ListenMode.LISTEN)
    line = silence(1000) + shi + silence(1500)
    rig.push(line)
    fed = bytes(rig.streams[0].fed)
    # Exactly a contiguous stretch of what a continuous resampler makes of the line.
    reference = wide_reference(line)
    assert find_in_line(fed, reference) >= 0, "the recognizer got audio that is not the line"
    # The stretch starts a pre-roll before the voice and contains all of it.
    voiced_start, voiced_end = voiced_span_ms(fed, ASR_RATE)
    orig_start, orig_end = voiced_span_ms(shi)
    assert abs((voiced_end - voiced_start) - (orig_end - orig_start)) <= 40
    assert PREROLL_MS - 120 <= voiced_start <= PREROLL_MS + 150
    assert len(fed) < sum(map(len, reference))
    # ... and ends when the end of speech is detected (no audio fed after SpeechEnded).
    ended = rig.events[1]
    assert isinstance(ended, SpeechEnded)
    fed_ms = len(fed) // 32
    speech_start_ms = rig.events[0].media_ms  # type: ignore[union-attr]
    assert fed_ms >= voiced_end - voiced_start + ENDPOINT.end_silence_ms
    assert fed_ms <= (rig.listener.media_ms - speech_start_ms) + PREROLL_MS + 400


def test_two_utterances_get_two_streams(speech8k: Speech8k, shi: bytes) -> None:
    rig = make_rig()
    rig.listener.set_mode(ListenMode.LISTEN)
    bushi = speech8k("cmn", "不是")
    rig.push(silence(600) + shi + silence(1200) + bushi + silence(1200))
    assert [type(e) for e in rig.events] == [SpeechStarted, SpeechEnded] * 2
    assert len(rig.streams) == 2
    first, second = (bytes(s.fed) for s in rig.streams)
    a = voiced_span_ms(first, ASR_RATE)
    b = voiced_span_ms(second, ASR_RATE)
    assert abs((a[1] - a[0]) - (voiced_span_ms(shi)[1] - voiced_span_ms(shi)[0])) <= 40
    assert abs((b[1] - b[0]) - (voiced_span_ms(bushi)[1] - voiced_span_ms(bushi)[0])) <= 40


def test_ignore_mode_produces_no_events(shi: bytes) -> None:
    rig = make_rig()
    rig.listener.set_mode(ListenMode.IGNORE, arm_no_input=True)
    rig.push(silence(500) + shi + silence(3000))
    assert rig.events == [] and rig.streams == []
    assert rig.listener.media_ms == (500 * 16 + len(shi) + 3000 * 16) // 320 * 20


def test_barge_mode_reports_speech_but_never_no_input(shi: bytes) -> None:
    rig = make_rig()
    rig.listener.set_mode(ListenMode.BARGE, arm_no_input=True)
    rig.push(silence(1500))
    assert rig.events == []
    rig.push(shi + silence(1500))
    assert [type(e) for e in rig.events] == [SpeechStarted, SpeechEnded]


def test_no_input_after_no_input_ms_of_silence() -> None:
    rig = make_rig()
    rig.push(silence(300))  # time before the question was asked
    rig.listener.set_mode(ListenMode.LISTEN, arm_no_input=True)
    rig.push(silence(ENDPOINT.no_input_ms - 20))
    assert rig.events == []
    rig.push(silence(20))
    assert rig.events == [NoInput(300 + ENDPOINT.no_input_ms)]
    # Reported once; the timer is disarmed until armed again.
    rig.push(silence(3000))
    assert len(rig.events) == 1
    rig.listener.set_mode(ListenMode.LISTEN, arm_no_input=True)
    rig.push(silence(ENDPOINT.no_input_ms))
    assert rig.events[1:] == [NoInput(rig.listener.media_ms)]
    assert rig.streams == []


def test_listen_without_arming_never_times_out() -> None:
    rig = make_rig()
    rig.listener.set_mode(ListenMode.LISTEN)
    rig.push(silence(3000))
    assert rig.events == []


def test_speech_before_the_deadline_prevents_no_input(shi: bytes) -> None:
    rig = make_rig()
    rig.listener.set_mode(ListenMode.LISTEN, arm_no_input=True)
    rig.push(silence(500) + shi + silence(3000))
    assert [type(e) for e in rig.events] == [SpeechStarted, SpeechEnded]


def test_switching_to_ignore_disarms_no_input() -> None:
    rig = make_rig()
    rig.listener.set_mode(ListenMode.LISTEN, arm_no_input=True)
    rig.push(silence(500))
    rig.listener.set_mode(ListenMode.IGNORE)
    rig.push(silence(600))
    rig.listener.set_mode(ListenMode.LISTEN)
    rig.push(silence(2000))
    assert rig.events == []


def test_drop_stream_forgets_the_utterance(shi: bytes) -> None:
    rig = make_rig()
    rig.listener.set_mode(ListenMode.BARGE)
    rig.push(silence(500) + shi[: 250 * 16])
    assert [type(e) for e in rig.events] == [SpeechStarted]
    assert rig.listener.in_speech and rig.listener.speech_ms > 0
    dropped = rig.listener.drop_stream()
    assert dropped is rig.streams[0]
    size = len(rig.streams[0].fed)
    assert not rig.listener.in_speech and rig.listener.speech_ms == 0
    rig.push(silence(200))
    assert len(rig.streams[0].fed) == size, "a dropped stream gets no more audio"


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
            WebRtcVad(TELEPHONY_RATE, 2),
            ENDPOINT,
            lambda: CallerAsr(engine, executor, Language.ZH, expect, metrics),
            events.append,
        )
        listener.set_mode(ListenMode.LISTEN, arm_no_input=True)
        for i, chunk in enumerate(chunks(silence(800) + shi + silence(1200))):
            listener.push_ulaw(chunk)
            if i % 5 == 0:
                await asyncio.sleep(0)  # let decoding run, as the media loop would
        assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
        ended = events[1]
        assert isinstance(ended, SpeechEnded) and isinstance(ended.stream, CallerAsr)
        result = await asyncio.wait_for(ended.stream.finish(), 10)
    assert result.is_final
    assert result.text == "是"
    assert metrics.asr_audio_s > 0.5
    assert metrics.asr_decode_s > 0


async def test_real_recognizer_cancel(engine: VoskEngine, shi: bytes) -> None:
    events: list[ListenerEvent] = []
    with ThreadPoolExecutor(max_workers=1) as executor:
        listener = Listener(
            WebRtcVad(TELEPHONY_RATE, 2),
            ENDPOINT,
            lambda: CallerAsr(engine, executor, Language.ZH, Expectation.YES_NO, Metrics()),
            events.append,
        )
        listener.set_mode(ListenMode.BARGE)
        for chunk in chunks(silence(400) + shi[: 250 * 16]):
            listener.push_ulaw(chunk)
        stream = listener.drop_stream()
        assert isinstance(stream, CallerAsr)
        await asyncio.wait_for(stream.cancel(), 5)
