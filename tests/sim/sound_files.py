"""Real PortAudio devices made of files (ALSA ``file`` plugin), and espeak-ng test speech.

PortAudio reads ``~/.asoundrc`` when it starts, so a process using these devices must run with
``HOME`` pointing at the folder given to :func:`write_asoundrc` (run it as a subprocess). The
devices are not paced by a sound card: they deliver and accept samples as fast as asked."""

from __future__ import annotations

import os
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from ivr.audio.resample import resample

RATE = 16000
ROOT = Path(__file__).resolve().parents[2]

ASOUNDRC = """\
pcm.!default {{ type asym playback.pcm "speaker" capture.pcm "mic" }}
pcm.speaker {{ type plug slave {{ pcm {{ type file slave.pcm "null" file "{speaker}"
               format "raw" }} format S16_LE rate {rate} channels 1 }} }}
pcm.mic {{ type plug slave {{ pcm {{ type file slave.pcm "null" file "/dev/null"
           infile "{mic}" format "raw" }} format S16_LE rate {rate} channels 1 }} }}
"""


def write_asoundrc(home: Path, mic: Path, speaker: Path) -> dict[str, str]:
    """``home/.asoundrc`` with a microphone reading ``mic`` (raw 16 kHz S16_LE mono) and a
    speaker writing ``speaker`` (same format); returns an environment using it."""
    home.mkdir(parents=True, exist_ok=True)
    (home / ".asoundrc").write_text(ASOUNDRC.format(mic=mic, speaker=speaker, rate=RATE),
                                    encoding="utf-8")
    env = dict(os.environ)
    env["HOME"] = str(home)
    env.pop("ALSA_CONFIG_PATH", None)
    return env


def needs_portaudio() -> None:
    if not any(Path(d).glob("libportaudio.so*") for d in ("/usr/lib/x86_64-linux-gnu",
                                                          "/usr/lib/aarch64-linux-gnu",
                                                          "/usr/lib", "/usr/local/lib")):
        pytest.skip("libportaudio2 is not installed")


def espeak_pcm(text: str, voice: str = "cmn", tmp: Path | None = None) -> bytes:
    """``text`` spoken by espeak-ng (as the fixtures are: speed 160, pitch 50), 16 kHz PCM16."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("espeak-ng is not installed")
    out = (tmp or Path("/tmp")) / f"espeak-{abs(hash((text, voice)))}.wav"
    subprocess.run([exe, "-v", voice, "-s", "160", "-p", "50", "-w", str(out), text],
                   check=True, capture_output=True, timeout=30)
    with wave.open(str(out), "rb") as wav:
        rate, data = wav.getframerate(), wav.readframes(wav.getnframes())
    out.unlink()
    return resample(data, rate, RATE)


def silence(ms: int, rate: int = RATE) -> bytes:
    return bytes(rate * ms // 1000 * 2)


def chunk_rms(pcm: bytes, rate: int = RATE, ms: int = 20) -> np.ndarray:
    """RMS of each ``ms`` chunk of PCM16."""
    n = rate * ms // 1000
    samples = np.frombuffer(pcm[: len(pcm) // (2 * n) * 2 * n], dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return np.zeros(0)
    rms: np.ndarray = np.sqrt(np.mean(samples.reshape(-1, n) ** 2, axis=1))
    return rms
