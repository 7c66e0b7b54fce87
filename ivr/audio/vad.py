"""Frame-level voice activity detection: a protocol, WebRTC VAD and an energy fallback."""

from __future__ import annotations

import ctypes
import logging
import math
from collections.abc import Callable
from functools import cache
from typing import Protocol

import numpy as np
import webrtcvad

try:  # the compiled half of py-webrtcvad, which also exports the C VAD's own functions
    import _webrtcvad
except ImportError:  # pragma: no cover - another build of the package
    _webrtcvad = None

from ivr.core.audio import SAMPLE_WIDTH

VAD_FRAME_MS = (10, 20, 30)
WEBRTC_RATES = (8000, 16000, 32000, 48000)
log = logging.getLogger(__name__)
# The C VAD's per-frame decision: 0 silence, 1 speech, > 1 a "hangover" frame (silence the
# VAD still calls speech for a few frames after speech ends). The Python binding collapses
# > 1 into True; the core entry points below return it as it is.
RawDecide = Callable[[bytes], int]


class Vad(Protocol):
    """Classifies one PCM16 mono frame (10, 20 or 30 ms at ``rate``) as speech or not."""

    rate: int

    def is_speech(self, frame: bytes) -> bool: ...


def check_frame(frame: bytes, rate: int) -> None:
    """Raise ``ValueError`` unless ``frame`` is 10, 20 or 30 ms of PCM16 at ``rate``."""
    allowed = {rate * ms // 1000 * SAMPLE_WIDTH for ms in VAD_FRAME_MS}
    if len(frame) not in allowed:
        raise ValueError(f"VAD frame of {len(frame)} bytes is not 10/20/30 ms at {rate} Hz")


class WebRtcVad:
    """Google WebRTC VAD; ``aggressiveness`` 0 (permissive) to 3 (strict).

    ``hangover=False`` drops the VAD's built-in hangover: after speech the C VAD keeps calling
    3-5 silent frames speech (60-100 ms at 20 ms frames, by aggressiveness), which delays the
    end of every answer by that much. Without it a frame is speech only when the VAD's own
    models say so. Falls back to the binding's decision (with hangover, a warning logged)
    when the compiled module does not export the core functions.
    """

    def __init__(self, rate: int, aggressiveness: int = 2, *, hangover: bool = True) -> None:
        if rate not in WEBRTC_RATES:
            raise ValueError(f"WebRTC VAD supports {WEBRTC_RATES} Hz, not {rate}")
        if not 0 <= aggressiveness <= 3:
            raise ValueError("aggressiveness must be 0..3")
        self.rate = rate
        self.aggressiveness = aggressiveness
        self._vad = webrtcvad.Vad(aggressiveness)
        self._raw = None if hangover else _raw_decider(self._vad, rate)
        self.hangover = self._raw is None

    def is_speech(self, frame: bytes) -> bool:
        check_frame(frame, self.rate)
        if self._raw is not None:
            return self._raw(bytes(frame)) == 1
        return bool(self._vad.is_speech(frame, self.rate))


@cache
def _core_functions() -> dict[int, Callable[..., int]] | None:
    if _webrtcvad is None:
        return None
    try:
        lib = ctypes.CDLL(_webrtcvad.__file__)
        functions: dict[int, Callable[..., int]] = {}
        for rate in WEBRTC_RATES:
            fn = getattr(lib, f"WebRtcVad_CalcVad{rate // 1000}khz")
            fn.restype = ctypes.c_int
            fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
            functions[rate] = fn
    except (OSError, AttributeError) as err:
        log.warning("WebRTC VAD without hangover unavailable (%s); using the binding's", err)
        return None
    return functions


def _raw_decider(vad: webrtcvad.Vad, rate: int) -> RawDecide | None:
    """The core decision for ``vad``'s own state (initialised, mode set by the binding)."""
    functions = _core_functions()
    if functions is None:
        return None
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    handle = vad._vad  # keeps the capsule (and the C state it owns) alive with ``vad``
    pointer = get_pointer(handle, b"WebRtcVadPtr")
    calc = functions[rate]

    def decide(frame: bytes) -> int:
        return int(calc(pointer, frame, len(frame) // SAMPLE_WIDTH))

    return decide


def frame_dbfs(frame: bytes) -> float:
    """RMS level of a PCM16 frame in dB relative to full scale (-inf dB for digital silence)."""
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return -math.inf
    rms = math.sqrt(float(np.mean(samples * samples)))
    return 20.0 * math.log10(rms / 32768.0) if rms > 0 else -math.inf


class EnergyVad:
    """Energy fallback: speech when a frame is ``margin_db`` above a tracked noise floor.

    The floor drops at once to quieter frames and rises at most ``floor_rise_db_per_s``, so
    steady noise is absorbed within a few seconds while speech (which has pauses) is not.
    Frames must also exceed ``threshold_dbfs``. Weaker than WebRTC VAD on noisy lines.
    """

    def __init__(
        self,
        rate: int,
        threshold_dbfs: float = -50.0,
        margin_db: float = 10.0,
        floor_rise_db_per_s: float = 5.0,
        initial_floor_dbfs: float = -60.0,
    ) -> None:
        self.rate = rate
        self.threshold_dbfs = threshold_dbfs
        self.margin_db = margin_db
        self.floor_rise_db_per_s = floor_rise_db_per_s
        self.noise_floor_dbfs = initial_floor_dbfs

    def is_speech(self, frame: bytes) -> bool:
        check_frame(frame, self.rate)
        level = max(frame_dbfs(frame), -100.0)
        speech = level >= self.threshold_dbfs and level >= self.noise_floor_dbfs + self.margin_db
        frame_s = len(frame) / SAMPLE_WIDTH / self.rate
        if level < self.noise_floor_dbfs:
            self.noise_floor_dbfs = level
        else:
            rise = self.floor_rise_db_per_s * frame_s
            self.noise_floor_dbfs = min(level, self.noise_floor_dbfs + rise)
        return speech
