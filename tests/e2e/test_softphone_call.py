"""``ivr softphone`` end to end: real PortAudio devices made of files, the real ``ivr serve``.

A "person" thread plays the caller: it listens to the softphone's speaker file and, each time
the bot has finished speaking, speaks its next phrase (espeak-ng, 16 kHz) into the microphone
file — appended just ahead of where PortAudio is reading it (the file devices are not paced by
a sound card; the softphone reads them at its 20 ms call clock)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import requests

from ivr.sim.phone import PhoneSimulator, SimOptions
from ivr.sim.script import load_script
from tests.e2e.conftest import API_HEADERS, API_TOKEN, AUTH_TOKEN, IVR, ROOT, Server
from tests.sim.sound_files import (
    RATE,
    chunk_rms,
    espeak_pcm,
    needs_portaudio,
    silence,
    write_asoundrc,
)

pytestmark = pytest.mark.e2e

TICK = RATE * 2 // 50  # bytes of 16 kHz PCM16 per 20 ms
LOUD = 300.0  # RMS of a 20 ms chunk that counts as bot speech


def read_pos(pid: int, path: Path) -> int | None:
    """Where process ``pid`` is reading ``path`` (Linux /proc), or None if it has not opened it."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        for fd in fds.iterdir():
            try:
                if os.readlink(fd) == str(path):
                    for line in Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().splitlines():
                        if line.startswith("pos:"):
                            return int(line.split()[1])
            except OSError:
                continue
    except OSError:
        return None
    return None


class Person(threading.Thread):
    """Speaks ``phrases`` one by one, each after the bot has been quiet ``quiet_ms``."""

    def __init__(self, mic: Path, speaker: Path, phrases: list[bytes], ahead_ms: int = 400,
                 quiet_ms: int = 800) -> None:
        super().__init__(daemon=True)
        self.mic, self.speaker = mic, speaker
        self.phrases = list(phrases)
        self.ahead = RATE * 2 * ahead_ms // 1000
        self.quiet_ticks = quiet_ms // 20
        self.pid: int | None = None
        self.done = threading.Event()
        self.spoken = 0
        self.bot_chunks = 0
        mic.write_bytes(silence(1000))

    def run(self) -> None:
        heard, quiet, offset = False, 0, 0
        while not self.done.is_set():
            pos = read_pos(self.pid, self.mic) if self.pid else None
            size = self.mic.stat().st_size
            if pos is not None and size < pos + self.ahead:
                with self.mic.open("ab") as f:
                    f.write(bytes((pos + self.ahead - size + TICK - 1) // TICK * TICK))
            if self.speaker.exists():
                with self.speaker.open("rb") as f:
                    f.seek(offset)
                    new = f.read()
                new = new[: len(new) // TICK * TICK]
                offset += len(new)
                for rms in chunk_rms(new):
                    if rms > LOUD:
                        heard, quiet = True, 0
                        self.bot_chunks += 1
                    else:
                        quiet += 1
                if heard and quiet >= self.quiet_ticks and self.phrases:
                    with self.mic.open("ab") as f:
                        f.write(self.phrases.pop(0))
                    self.spoken += 1
                    heard = False
            time.sleep(0.01)


def start_softphone(tmp: Path, server: Server, *extra: str) -> subprocess.Popen[str]:
    """``ivr softphone`` on the file devices ``tmp/mic.raw`` and ``tmp/speaker.raw``."""
    mic, speaker = tmp / "mic.raw", tmp / "speaker.raw"
    env = write_asoundrc(tmp / "home", mic, speaker)
    env.update({k: v for k, v in server.env.items() if k.startswith("IVR_")})
    cmd = [str(IVR), "softphone", "--url", server.url, "--lang", "zh", *extra]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    return proc


def caller_texts(record: dict[str, object]) -> list[str]:
    turns = record["turns"]
    assert isinstance(turns, list)
    return [str(t["text"]) for t in turns if t["role"] == "caller"]


def fetch_record(server: Server, sid: str) -> dict[str, object]:
    resp = requests.get(f"{server.url}/api/calls/{sid}", timeout=5, headers=API_HEADERS)
    resp.raise_for_status()
    body: dict[str, object] = resp.json()
    return body


def call_sid(stdout: str) -> str:
    for word in stdout.split():
        if word.startswith("CA") and len(word) == 34:
            return word
    raise AssertionError(f"no call SID in the output:\n{stdout}")


def test_softphone_conversation_and_recording(server: Server, tmp_path: Path) -> None:
    needs_portaudio()
    phrases = [espeak_pcm("不方便", tmp=tmp_path) + silence(300),
               espeak_pcm("晚点再打", tmp=tmp_path) + silence(300)]
    rec_dir = tmp_path / "recorded"
    person = Person(tmp_path / "mic.raw", tmp_path / "speaker.raw", phrases)
    proc = start_softphone(
        tmp_path, server, "--customer-id", "C-soft", "--customer-title", "张先生",
        "--record", str(rec_dir))
    person.pid = proc.pid
    person.start()
    try:
        stdout, stderr = proc.communicate(timeout=150)
    finally:
        person.done.set()
        if proc.poll() is None:
            proc.kill()
    context = f"stdout:\n{stdout}\nstderr:\n{stderr}\nserver:\n{server.log_tail(30)}"
    assert proc.returncode == 0, context
    assert person.spoken == 2, context

    # The bot heard the caller's words (call record) and the transcript showed them live.
    sid = call_sid(stdout)
    record = fetch_record(server, sid)
    assert caller_texts(record) == ["不方便", "晚点再打"], context
    assert record["outcome"] == "reschedule", context
    assert "heard: 不方便" in stdout and "heard: 晚点再打" in stdout, context
    assert "bot  : " in stdout and "reply latency" in stdout, context

    # The bot's audio reached the speaker: several seconds of it, in real time.
    rms = chunk_rms((tmp_path / "speaker.raw").read_bytes())
    assert int(np.sum(rms > LOUD)) * 20 >= 3000, "at least 3 s of bot speech was played"
    assert float(rms.max()) > 1500

    # --record: WAVs + a script that loads and replays to the same outcome.
    script = load_script(rec_dir / "script.yaml")
    assert [t.say for t in script.turns] == ["不方便", "晚点再打"], context
    assert script.expect["outcome"] == "reschedule"
    assert script.expect["heard"] == ["不方便", "晚点再打"]
    assert script.customer == {"id": "C-soft", "title": "张先生"}
    for turn in script.turns:
        assert turn.wav is not None and turn.barge_in_ms is None, script.turns
        with wave.open(str(turn.wav), "rb") as wav:
            assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
            assert 0.3 < wav.getnframes() / wav.getframerate() < 5
    sim = PhoneSimulator(SimOptions(base_url=server.url, auth_token=AUTH_TOKEN,
                                    api_token=API_TOKEN))
    replay = asyncio.run(sim.call(script))
    assert not replay.errors, replay.errors
    assert replay.record is not None
    assert replay.record["outcome"] == script.expect["outcome"]
    assert caller_texts(replay.record) == script.expect["heard"]


def test_ctrl_c_hangs_up(server: Server, tmp_path: Path) -> None:
    needs_portaudio()
    person = Person(tmp_path / "mic.raw", tmp_path / "speaker.raw", [])
    proc = start_softphone(tmp_path, server, "--record", str(tmp_path / "rec"))
    person.pid = proc.pid
    person.start()
    try:
        deadline = time.monotonic() + 60
        while person.bot_chunks < 25 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert person.bot_chunks >= 25, "the greeting was played"
        proc.send_signal(signal.SIGINT)  # Ctrl-C, in the middle of the greeting
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        person.done.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, f"{stdout}\n{stderr}"
    assert "ended by caller" in stdout, stdout
    record = fetch_record(server, call_sid(stdout))
    assert record["ended_at"], record
    script = load_script(tmp_path / "rec" / "script.yaml")
    assert len(script.turns) == 1 and script.turns[0].hangup
    assert script.turns[0].barge_in_ms is not None and script.turns[0].barge_in_ms >= 400
