"""A minimal ctypes binding of Xiph's libspeexdsp (Debian ``libspeexdsp1``): the MDF acoustic
echo canceller and the preprocessor's residual-echo suppressor. Nothing else of the library.

The library is loaded once, lazily; :func:`load` raises :class:`SpeexUnavailable` with the
package to install when it is missing."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from dataclasses import dataclass
from functools import cache

# Request codes from speex/speex_echo.h and speex/speex_preprocess.h (libspeexdsp 1.2).
ECHO_SET_SAMPLING_RATE = 24
PREPROCESS_SET_DENOISE = 0
PREPROCESS_SET_AGC = 2
PREPROCESS_SET_VAD = 4
PREPROCESS_SET_DEREVERB = 8
PREPROCESS_SET_NOISE_SUPPRESS = 18
PREPROCESS_SET_ECHO_SUPPRESS = 20
PREPROCESS_SET_ECHO_SUPPRESS_ACTIVE = 22
PREPROCESS_SET_ECHO_STATE = 24

LIBRARY_ENV = "IVR_SPEEXDSP_LIBRARY"
DEBIAN_PACKAGE = "libspeexdsp1"
SONAMES = ("libspeexdsp.so.1",)

_i16p = ctypes.POINTER(ctypes.c_int16)


class SpeexUnavailable(RuntimeError):
    """libspeexdsp could not be loaded."""


@dataclass(frozen=True)
class SpeexLib:
    """The loaded library with typed entry points."""

    cdll: ctypes.CDLL
    path: str


def _declare(lib: ctypes.CDLL) -> None:
    vp = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_state_init.restype = vp
    lib.speex_echo_state_destroy.argtypes = [vp]
    lib.speex_echo_state_destroy.restype = None
    lib.speex_echo_state_reset.argtypes = [vp]
    lib.speex_echo_state_reset.restype = None
    lib.speex_echo_cancellation.argtypes = [vp, _i16p, _i16p, _i16p]
    lib.speex_echo_cancellation.restype = None
    lib.speex_echo_ctl.argtypes = [vp, ctypes.c_int, vp]
    lib.speex_echo_ctl.restype = ctypes.c_int
    lib.speex_preprocess_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_preprocess_state_init.restype = vp
    lib.speex_preprocess_state_destroy.argtypes = [vp]
    lib.speex_preprocess_state_destroy.restype = None
    lib.speex_preprocess_run.argtypes = [vp, _i16p]
    lib.speex_preprocess_run.restype = ctypes.c_int
    lib.speex_preprocess_ctl.argtypes = [vp, ctypes.c_int, vp]
    lib.speex_preprocess_ctl.restype = ctypes.c_int


@cache
def load() -> SpeexLib:
    """Load libspeexdsp (``IVR_SPEEXDSP_LIBRARY`` overrides the search)."""
    candidates = [os.environ.get(LIBRARY_ENV, ""), ctypes.util.find_library("speexdsp") or "",
                  *SONAMES]
    errors = []
    for name in filter(None, candidates):
        try:
            lib = ctypes.CDLL(name)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
            continue
        _declare(lib)
        return SpeexLib(lib, name)
    raise SpeexUnavailable(
        f"libspeexdsp not found (install the Debian package {DEBIAN_PACKAGE}, or set "
        f"{LIBRARY_ENV}); tried: {'; '.join(errors) or 'nothing'}"
    )


def ctl_int(fn: ctypes._NamedFuncPointer, state: int, request: int, value: int) -> None:
    """Call a ``*_ctl`` entry point with an ``int`` argument; raise on a non-zero answer."""
    arg = ctypes.c_int(value)
    if fn(state, request, ctypes.byref(arg)) != 0:
        raise ValueError(f"speexdsp ctl {request} rejected {value}")


def ctl_ptr(fn: ctypes._NamedFuncPointer, state: int, request: int, ptr: int) -> None:
    """Call a ``*_ctl`` entry point with a pointer argument (e.g. the echo state)."""
    if fn(state, request, ctypes.c_void_p(ptr)) != 0:
        raise ValueError(f"speexdsp ctl {request} rejected a pointer")


def int16_buffer(data: bytes) -> ctypes.Array[ctypes.c_int16]:
    """A C ``int16`` array holding little-endian PCM16 ``data`` (this machine is little-endian)."""
    buf = (ctypes.c_int16 * (len(data) // 2))()
    ctypes.memmove(buf, data, len(data))
    return buf


def as_i16p(buf: ctypes.Array[ctypes.c_int16]) -> ctypes._Pointer[ctypes.c_int16]:
    return ctypes.cast(buf, _i16p)
