"""The speexdsp echo canceller with real signals: an espeak-ng prompt as the bot, leaked back at
−25 dB through a delayed room/hybrid response, real human speech as the caller."""

from __future__ import annotations

import ctypes.util
import itertools

import numpy as np
import pytest

from ivr.audio import speexdsp
from ivr.audio.aec import AecConfig, SpeexEchoCanceller
from ivr.sim.echo import EchoSpec
from tests.audio.echo_signals import RATE, at_level, frame_levels, pcm, run_call


def _power_db(frames: list[bytes]) -> float:
    x = np.frombuffer(b"".join(frames), dtype="<i2").astype(np.float64)
    return float(10 * np.log10(np.mean(x * x) + 1.0))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("delay_ms", [40, 120, 220])
def test_converged_canceller_removes_most_of_the_echo(
    bot_prompts: dict[str, np.ndarray], lang: str, delay_ms: int
) -> None:
    bot = bot_prompts[lang]
    run = run_call(bot, spec=EchoSpec(level_db=-25, delay_ms=delay_ms))
    # Echo return loss enhancement over the second half of the prompt (the filter has
    # converged by then): measured 15-21 dB with a 300 ms tail.
    half = len(run.mic) // 2
    end = len(bot) // 160
    erle = _power_db(run.mic[half:end]) - _power_db(run.cleaned[half:end])
    assert erle >= 12.0, f"ERLE {erle:.1f} dB"


def _band_levels(frames: list[bytes]) -> np.ndarray:
    """Per-frame energy in 16 bands of the telephone band (300-3400 Hz), dB."""
    x = np.frombuffer(b"".join(frames), dtype="<i2").astype(np.float64)
    n = len(x) // 256
    spec = np.abs(np.fft.rfft(x[: n * 256].reshape(n, 256) * np.hanning(256), axis=1)) ** 2
    freqs = np.fft.rfftfreq(256, 1 / RATE)
    edges = np.linspace(300, 3400, 17)
    bands = [spec[:, (freqs >= lo) & (freqs < hi)].sum(axis=1)
             for lo, hi in itertools.pairwise(edges)]
    return 10 * np.log10(np.stack(bands, axis=1) + 1.0)


def test_caller_alone_passes_through_unchanged(callers_8k: dict[str, np.ndarray]) -> None:
    """No bot audio: the canceller only removes DC and rumble (speex's notch filter), the
    telephone band reaches the recognizer as it came."""
    caller = at_level(callers_8k["zh01"], -26)
    aec = SpeexEchoCanceller(AecConfig(rate=RATE))
    try:
        frames = [pcm(caller[i : i + 160]) for i in range(0, len(caller) - 159, 160)]
        out = [aec.process(f, b"") for f in frames]
    finally:
        aec.close()
    before, after = _band_levels(frames), _band_levels(out)
    loud = before.max(axis=1) > 50  # frames with speech
    assert float(np.median(np.abs(before[loud] - after[loud]))) < 0.5


def test_caller_survives_double_talk(bot_prompts: dict[str, np.ndarray],
                                     callers_8k: dict[str, np.ndarray]) -> None:
    """The caller talks over the second half of the prompt: the cleaned signal is the caller's
    voice (as the canceller passes it on alone), much closer to it than the raw line was."""
    bot = bot_prompts["zh"]
    caller = at_level(callers_8k["zh05"], -26)
    at = len(bot) / RATE / 2
    alone = run_call(bot, caller, caller_at_s=at, spec=EchoSpec(level_db=-80))
    both = run_call(bot, caller, caller_at_s=at, spec=EchoSpec(level_db=-25))
    start = int(at * RATE) // 160
    end = len(bot) // 160

    def snr(voice_frames: list[bytes], frames: list[bytes]) -> float:
        voice = np.frombuffer(b"".join(voice_frames[start:end]), dtype="<i2").astype(float)
        x = np.frombuffer(b"".join(frames[start:end]), dtype="<i2").astype(float)
        return float(10 * np.log10(np.sum(voice**2) / np.sum((x - voice) ** 2)))

    raw, cleaned = snr(alone.mic, both.mic), snr(alone.cleaned, both.cleaned)
    assert cleaned >= raw + 6.0, f"voice-to-echo {raw:.1f} dB raw, {cleaned:.1f} dB cleaned"


def test_sixteen_kilohertz_frames() -> None:
    aec = SpeexEchoCanceller(AecConfig(rate=16000))
    try:
        out = aec.process(bytes(640), bytes(640))
        assert out == bytes(640)
        assert aec.config.frame_bytes == 640
    finally:
        aec.close()


def test_frame_sizes_are_checked() -> None:
    aec = SpeexEchoCanceller(AecConfig(rate=RATE))
    try:
        with pytest.raises(ValueError, match="caller frame"):
            aec.process(bytes(100), b"")
        with pytest.raises(ValueError, match="played frame"):
            aec.process(bytes(320), bytes(322))
        assert len(aec.process(bytes(320), bytes(100))) == 320  # short reference: padded
    finally:
        aec.close()


def test_closed_canceller_refuses_work_and_close_is_idempotent() -> None:
    aec = SpeexEchoCanceller(AecConfig(rate=RATE, residual_suppression=True))
    aec.close()
    aec.close()
    with pytest.raises(RuntimeError, match="closed"):
        aec.process(bytes(320), b"")


def test_residual_suppression_removes_more_echo(bot_prompts: dict[str, np.ndarray]) -> None:
    bot = bot_prompts["en"]
    plain = run_call(bot, aec=AecConfig(rate=RATE))
    suppressed = run_call(bot, aec=AecConfig(rate=RATE, residual_suppression=True))
    end = len(bot) // 160
    assert _power_db(suppressed.cleaned[:end]) < _power_db(plain.cleaned[:end]) - 1.0


def test_reset_forgets_the_echo_path(bot_prompts: dict[str, np.ndarray]) -> None:
    bot = bot_prompts["zh"]
    run = run_call(bot)
    levels = frame_levels(np.frombuffer(b"".join(run.cleaned), dtype="<i2").astype(float))
    assert levels.size > 0
    aec = SpeexEchoCanceller(AecConfig(rate=RATE))
    aec.reset()  # on a fresh state: harmless
    aec.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"rate": 11025}, "rate"), ({"frame_ms": 30}, "10 or 20"), ({"tail_ms": 5000}, "tail")],
)
def test_bad_config_is_rejected(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AecConfig(**kwargs)


def test_missing_library_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(speexdsp.LIBRARY_ENV, "/nonexistent/libspeexdsp.so")
    monkeypatch.setattr(ctypes.util, "find_library", lambda _name: None)
    monkeypatch.setattr(speexdsp, "SONAMES", ("libspeexdsp-missing.so.9",))
    speexdsp.load.cache_clear()
    try:
        with pytest.raises(speexdsp.SpeexUnavailable, match="libspeexdsp1"):
            speexdsp.load()
    finally:
        speexdsp.load.cache_clear()


def test_speex_echo_is_canceller_and_gate_of_one_call(bot_prompts: dict[str, np.ndarray],
                                                      callers_8k: dict[str, np.ndarray]) -> None:
    from ivr.audio.echo_speex import EchoSettings, SpeexEcho, speex_echo_factory
    from ivr.sim.echo import EchoPath

    echo = speex_echo_factory(EchoSettings())(RATE)
    assert isinstance(echo, SpeexEcho)
    path = EchoPath(EchoSpec(level_db=-25), RATE)
    bot = bot_prompts["zh"]
    caller = at_level(callers_8k["zh05"], -26)
    start = 2 * RATE
    callers_frames = []
    for i in range(0, len(bot) - 160, 160):
        ref = pcm(bot[i : i + 160])
        voice = caller[i - start : i - start + 160] if start <= i < start + len(caller) - 160 \
            else np.zeros(160)
        mic = path.add_to(pcm(voice), ref)
        cleaned = echo.process(mic, ref)
        callers_frames.append(echo.is_caller(mic, cleaned, ref))
        assert echo.last is not None and echo.last.caller == callers_frames[-1]
    flags = np.array(callers_frames)
    assert not flags[: start // 160].any()
    assert flags[start // 160 :].sum() > 20
    echo.reset()
    assert echo.last is None
    assert echo.is_caller(bytes(320), bytes(320), bytes(320)) is False
    echo.close()


@pytest.mark.parametrize("level_db", [-25, -15])
def test_what_listens_after_the_canceller_never_hears_the_bot(
    bot_prompts: dict[str, np.ndarray], level_db: float
) -> None:
    """The bot's greeting comes back while the canceller is still converging: after the
    canceller and the gate's suppression the VAD finds no speech in it (without the suppression
    it finds some: the echo would open an utterance and be recognized as an answer)."""
    from ivr.audio.echo_speex import EchoSettings, SpeexEcho
    from ivr.audio.vad import WebRtcVad
    from ivr.sim.echo import EchoPath

    for lang, bot in bot_prompts.items():
        speech = {}
        for suppress in (True, False):
            echo = SpeexEcho(RATE, EchoSettings(suppress_echo=suppress))
            path = EchoPath(EchoSpec(level_db=level_db, delay_ms=120), RATE)
            vad = WebRtcVad(RATE, 2)
            frames = len(bot) // 160 + 25
            played = np.zeros(frames * 160)
            played[: len(bot)] = bot
            count = 0
            for i in range(frames):
                ref = pcm(played[i * 160 : (i + 1) * 160])
                count += vad.is_speech(echo.process(path.add_to(bytes(320), ref), ref))
            speech[suppress] = count
            echo.close()
        assert speech[True] == 0, lang
        assert speech[False] > 50, lang


def test_the_caller_talking_over_the_bot_still_reaches_the_vad(
    bot_prompts: dict[str, np.ndarray], callers_8k: dict[str, np.ndarray]
) -> None:
    from ivr.audio.echo_speex import SpeexEcho
    from ivr.audio.vad import WebRtcVad
    from ivr.sim.echo import EchoPath
    from tests.audio.echo_signals import telephone_band

    for clip in ("zh01", "zh05", "en01", "en06"):
        bot = bot_prompts["zh" if clip.startswith("zh") else "en"]
        caller = at_level(callers_8k[clip], -26)
        frames = len(bot) // 160 + 25
        played, voice = np.zeros(frames * 160), np.zeros(frames * 160)
        played[: len(bot)] = bot
        start = int(1.5 * RATE)
        end = min(len(voice), start + len(caller))
        voice[start:end] = caller[: end - start]
        voiced = frame_levels(telephone_band(voice)) > -40
        echo, path, vad = SpeexEcho(RATE), EchoPath(EchoSpec(level_db=-25), RATE), \
            WebRtcVad(RATE, 2)
        heard = []
        for i in range(frames):
            ref = pcm(played[i * 160 : (i + 1) * 160])
            mic = path.add_to(pcm(voice[i * 160 : (i + 1) * 160]), ref)
            heard.append(vad.is_speech(echo.process(mic, ref)))
        echo.close()
        assert np.array(heard)[voiced[: len(heard)]].mean() > 0.9, clip


def test_a_vanished_echo_path_is_never_played_back_into_a_silent_line(
    bot_prompts: dict[str, np.ndarray], callers_8k: dict[str, np.ndarray]
) -> None:
    """The filter learned an echo path (and the caller talked over the bot: double talk), then
    the line goes quiet while the bot speaks on: subtracting the learned echo from silence
    would put the bot's own voice into the caller's track (heard as the caller barging in).
    The canceller never returns more than it was given."""
    bot = at_level(bot_prompts["zh"], -16)
    caller = at_level(callers_8k["zh01"], -26)
    n = min(len(bot), len(caller)) // 160
    aec = SpeexEchoCanceller(AecConfig(rate=RATE))
    try:
        for i in range(n):  # echo at -6 dB, 40 ms late, plus the caller's own voice
            played = bot[i * 160:(i + 1) * 160]
            echo = 0.5 * bot[max(0, i * 160 - 320):(i + 1) * 160 - 320] if i >= 2 else \
                np.zeros(160)
            aec.process(pcm(echo + caller[i * 160:(i + 1) * 160]), pcm(played))
        silent = pcm(np.zeros(160))
        out = [aec.process(silent, pcm(bot[i * 160:(i + 1) * 160])) for i in range(n)]
    finally:
        aec.close()
    assert max(abs(int(s)) for s in np.frombuffer(b"".join(out), dtype="<i2")) == 0
