"""Signals for echo tests: espeak-ng prompts as the bot, real speech clips as the caller, the bot
leaking back through :class:`ivr.sim.echo.EchoPath`, run frame by frame through the canceller
and the gate exactly as a call would."""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest

from ivr.audio.aec import AecConfig, SpeexEchoCanceller
from ivr.audio.echo_gate import EchoGate, GateConfig, GateFrame
from ivr.audio.resample import resample
from ivr.sim.echo import EchoPath, EchoSpec

RATE = 8000
FRAME = RATE * 20 // 1000  # samples per 20 ms frame

BOT_TEXTS = {
    "zh": ("cmn", "您好,这里是钱包服务中心,您的申请已经通过预审。请问是张先生吗?"
                  "我们的通话可能会被录音以改进服务。"),
    "en": ("en-us", "Hello, this is the wallet service center calling about your application. "
                    "Am I speaking with Mr. Zhang? This call may be recorded to improve our "
                    "service."),
}


def synth(text: str, voice: str, out: Path) -> np.ndarray:
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed")
    subprocess.run([exe, "-v", voice, "-w", str(out), text], check=True, capture_output=True,
                   timeout=60)
    return read_8k(out)


def read_8k(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        data = wav.readframes(wav.getnframes())
    if rate != RATE:
        data = resample(data, rate, RATE)
    return np.frombuffer(data, dtype="<i2").astype(np.float64)


def frame_levels(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    frames = x[: n * FRAME].reshape(n, FRAME)
    return 10 * np.log10(np.mean(frames * frames, axis=1) + 1.0) - 20 * np.log10(32768.0)


def telephone_band(x: np.ndarray) -> np.ndarray:
    """``x`` without the energy below 200 Hz (rumble the line and the canceller remove)."""
    spectrum = np.fft.rfft(x)
    spectrum[np.fft.rfftfreq(len(x), 1 / RATE) < 200] = 0
    return np.fft.irfft(spectrum, len(x))


def active_level(x: np.ndarray) -> float:
    levels = frame_levels(telephone_band(x))
    loud = levels[levels > -50]
    return float(10 * np.log10(np.mean(10 ** (loud / 10))))


def at_level(x: np.ndarray, dbfs: float) -> np.ndarray:
    return x * 10 ** ((dbfs - active_level(x)) / 20)


def pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


@dataclass
class EchoRun:
    """One simulated call leg, frame by frame."""

    gate: list[GateFrame] = field(default_factory=list)
    mic: list[bytes] = field(default_factory=list)
    cleaned: list[bytes] = field(default_factory=list)
    caller_levels: np.ndarray = field(default_factory=lambda: np.zeros(0))  # in-band, dBFS

    @property
    def caller_flags(self) -> np.ndarray:
        return np.array([g.caller for g in self.gate])


def run_call(
    bot: np.ndarray,
    caller: np.ndarray | None = None,
    *,
    caller_at_s: float = 0.0,
    spec: EchoSpec | None = None,
    aec: AecConfig | None = None,
    gate: GateConfig | None = None,
    tail_s: float = 0.5,
    noise_dbfs: float = -70.0,
    seed: int = 1,
    delay_change: tuple[float, int] | None = None,
) -> EchoRun:
    """The bot plays ``bot`` from t=0; ``caller`` starts at ``caller_at_s``; the echo path
    leaks the bot into the line (from ``delay_change[0]`` seconds on with a bulk delay of
    ``delay_change[1]`` ms); every 20 ms frame goes through canceller and gate."""
    n_frames = int((len(bot) / RATE + tail_s) * RATE) // FRAME
    if caller is not None:
        n_frames = max(n_frames, int((caller_at_s * RATE + len(caller)) // FRAME) + 1)
    total = n_frames * FRAME
    played = np.zeros(total)
    played[: len(bot)] = bot[:total]
    voice = np.zeros(total)
    if caller is not None:
        start = int(caller_at_s * RATE)
        end = min(total, start + len(caller))
        voice[start:end] = caller[: end - start]
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 32768 * 10 ** (noise_dbfs / 20), total)
    spec = spec or EchoSpec()
    path = EchoPath(spec, RATE)
    later = None
    if delay_change is not None:
        later = EchoPath(replace(spec, delay_ms=delay_change[1]), RATE)
        change_frame = int(delay_change[0] * RATE) // FRAME
    canceller = SpeexEchoCanceller(aec or AecConfig(rate=RATE))
    judge = EchoGate(gate or GateConfig())
    run = EchoRun(caller_levels=frame_levels(telephone_band(voice)))
    try:
        for i in range(n_frames):
            span = slice(i * FRAME, (i + 1) * FRAME)
            ref = pcm(played[span])
            line = pcm(voice[span] + noise[span])
            mic = path.add_to(line, ref)
            if later is not None:
                changed = later.add_to(line, ref)  # fed every frame: it has the history
                mic = changed if i >= change_frame else mic
            out = canceller.process(mic, ref)
            run.mic.append(mic)
            run.cleaned.append(out)
            run.gate.append(judge.update(mic, ref, out))
    finally:
        canceller.close()
    return run


def max_run(flags: np.ndarray) -> int:
    best = cur = 0
    for flag in flags:
        cur = cur + 1 if flag else 0
        best = max(best, cur)
    return best
