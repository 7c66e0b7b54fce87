"""Microphone and speaker for the softphone, through PortAudio (``sounddevice``).

Both use blocking I/O in a thread of their own, so the asyncio 20 ms call clock never waits on
a sound device:

* :class:`MicSource` reads 20 ms blocks at the device rate, converts them to 8 kHz μ-law
  frames and queues them. The queue is bounded and the reader *waits* when it is full, so a
  device that is not paced by a sound card (an ALSA ``file`` plugin in the tests) is read at
  exactly the call clock's pace instead of being drained at once.
* :class:`SpeakerSink` takes the bot audio the call clock "played" in a tick (μ-law, possibly
  none), converts it to PCM at the device rate and writes it — silence when the bot is quiet,
  so a real device never runs dry between prompts. A short primer absorbs resampler bursts.

``sounddevice`` is imported lazily: the rest of ``ivr`` works on machines without PortAudio.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from typing import Any

from ivr.audio.mulaw import pcm16_to_ulaw, ulaw_to_pcm16
from ivr.audio.resample import StreamResampler
from ivr.core.audio import SAMPLE_WIDTH, TELEPHONY_RATE
from ivr.core.errors import ConfigError

log = logging.getLogger(__name__)

PREFERRED_RATE = 16000
FRAME_MS = 20
ULAW_FRAME = TELEPHONY_RATE * FRAME_MS // 1000  # 160 bytes of μ-law per 20 ms
PCM8K_FRAME = ULAW_FRAME * SAMPLE_WIDTH
# soxr "LQ" emits ~60 ms blocks (HQ: 100-150 ms); plenty for 8 kHz telephone audio.
RESAMPLE_QUALITY = "LQ"


def _sd() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio library missing
        raise ConfigError(f"sound devices unavailable ({exc}); "
                          "install PortAudio (apt-get install libportaudio2)") from exc
    return sounddevice


def list_devices() -> str:
    """PortAudio's device table (``>`` marks the default input, ``<`` the default output)."""
    sd = _sd()
    devices = sd.query_devices()
    if len(devices) == 0:
        return "no sound devices found (PortAudio sees none)"
    return str(devices)


def device_spec(spec: str | None) -> int | str | None:
    """``--input/--output`` value: a device index, a (part of a) name, or None for the default."""
    if spec is None or spec == "":
        return None
    return int(spec) if spec.isdigit() else spec


def choose_rate(kind: str, device: int | str | None, preferred: int = PREFERRED_RATE) -> int:
    """``preferred`` if the device takes 16-bit mono at that rate, else its default rate."""
    sd = _sd()
    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    try:
        check(device=device, samplerate=preferred, channels=1, dtype="int16")
        return preferred
    except Exception as first:  # sounddevice raises PortAudioError or ValueError
        try:
            info = sd.query_devices(device, kind)
        except Exception as exc:
            raise ConfigError(f"{kind} device {device!r}: {exc}") from exc
        rate = int(info["default_samplerate"])
        try:
            check(device=device, samplerate=rate, channels=1, dtype="int16")
        except Exception as exc:
            raise ConfigError(f"{kind} device {info['name']!r} takes neither {preferred} Hz "
                              f"({first}) nor its default {rate} Hz mono 16-bit ({exc})") from exc
        return rate


class MicSource:
    """Microphone → 8 kHz μ-law 20 ms frames on a bounded queue (see the module doc)."""

    def __init__(self, device: int | str | None = None, rate: int | None = None,
                 max_frames: int = 8) -> None:
        self.device = device
        self.rate = rate or choose_rate("input", device)
        self._frames: queue.Queue[bytes] = queue.Queue(maxsize=max_frames)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stream: Any = None
        self.overflows = 0
        self.error: BaseException | None = None

    def start(self) -> None:
        sd = _sd()
        block = self.rate * FRAME_MS // 1000
        try:
            self._stream = sd.RawInputStream(device=self.device, samplerate=self.rate,
                                             channels=1, dtype="int16", blocksize=block)
            self._stream.start()
        except Exception as exc:
            raise ConfigError(f"cannot open input device {self.device!r}: {exc}") from exc
        self._thread = threading.Thread(target=self._read, args=(block,), name="mic",
                                        daemon=True)
        self._thread.start()

    def _read(self, block: int) -> None:
        resampler = StreamResampler(self.rate, TELEPHONY_RATE, quality=RESAMPLE_QUALITY)
        pending = bytearray()
        try:
            while not self._stop.is_set():
                data, overflowed = self._stream.read(block)
                if overflowed:
                    self.overflows += 1
                pending += resampler.process(bytes(data))
                while len(pending) >= PCM8K_FRAME and not self._stop.is_set():
                    frame = pcm16_to_ulaw(bytes(pending[:PCM8K_FRAME]))
                    del pending[:PCM8K_FRAME]
                    self._put(frame)
        except Exception as exc:
            self.error = exc
            log.error("microphone stopped: %s", exc)
        finally:
            with contextlib.suppress(Exception):
                self._stream.close()

    def _put(self, frame: bytes) -> None:
        while not self._stop.is_set():
            try:
                self._frames.put(frame, timeout=0.1)
                return
            except queue.Full:
                continue

    def drain(self) -> None:
        """Forget what was captured so far (before the call was connected)."""
        while True:
            try:
                self._frames.get_nowait()
            except queue.Empty:
                return

    def next_frame(self) -> bytes | None:
        """The next 160-byte μ-law frame, or None if none is ready yet (never blocks)."""
        try:
            return self._frames.get_nowait()
        except queue.Empty:
            return None

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


class SpeakerSink:
    """Bot μ-law → PCM at the device rate → speaker, one call-clock tick at a time."""

    def __init__(self, device: int | str | None = None, rate: int | None = None,
                 prime_ms: int = 100, max_ticks: int = 25) -> None:
        self.device = device
        self.rate = rate or choose_rate("output", device)
        self.prime_ms = prime_ms
        self._resampler = StreamResampler(TELEPHONY_RATE, self.rate, quality=RESAMPLE_QUALITY)
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=max_ticks)
        self._thread: threading.Thread | None = None
        self._stream: Any = None
        self.underflows = 0
        self.dropped = 0
        self.error: BaseException | None = None

    def start(self) -> None:
        sd = _sd()
        try:
            self._stream = sd.RawOutputStream(device=self.device, samplerate=self.rate,
                                              channels=1, dtype="int16",
                                              blocksize=self.rate * FRAME_MS // 1000)
            self._stream.start()
        except Exception as exc:
            raise ConfigError(f"cannot open output device {self.device!r}: {exc}") from exc
        self._thread = threading.Thread(target=self._write, name="speaker", daemon=True)
        self._thread.start()

    def play(self, ulaw: bytes) -> None:
        """One tick of bot audio (``b""``: the bot is quiet — play silence)."""
        pcm8k = ulaw_to_pcm16(ulaw.ljust(ULAW_FRAME, b"\xff")) if ulaw else bytes(PCM8K_FRAME)
        pcm = self._resampler.process(pcm8k)
        if not pcm:
            return
        try:
            self._chunks.put_nowait(pcm)
        except queue.Full:  # the device is slower than the call clock: drop the oldest tick
            self.dropped += 1
            with contextlib.suppress(queue.Empty):
                self._chunks.get_nowait()
            with contextlib.suppress(queue.Full):
                self._chunks.put_nowait(pcm)

    def _write(self) -> None:
        try:
            primer = bytes(self.rate * self.prime_ms // 1000 * SAMPLE_WIDTH)
            if primer:
                self._stream.write(primer)
            while True:
                pcm = self._chunks.get()
                if pcm is None:
                    break
                if self._stream.write(pcm):
                    self.underflows += 1
        except Exception as exc:
            self.error = exc
            log.error("speaker stopped: %s", exc)
        finally:
            with contextlib.suppress(Exception):
                self._stream.close()

    def stop(self) -> None:
        """Play what is queued, then close the device."""
        if self._thread is None:
            return
        with contextlib.suppress(queue.Full):
            self._chunks.put(None, timeout=2)
        self._thread.join(timeout=3)
