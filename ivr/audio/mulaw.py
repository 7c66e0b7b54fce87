"""G.711 μ-law ↔ PCM16 (little-endian) codec using numpy lookup tables."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_BIAS = 0x84  # 132, added to the magnitude before finding the segment
_CLIP = 32635  # largest magnitude that still fits after adding the bias


def _build_decode_table() -> npt.NDArray[np.int16]:
    codes = np.arange(256, dtype=np.int32)
    inverted = ~codes & 0xFF
    mantissa = inverted & 0x0F
    exponent = (inverted >> 4) & 0x07
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    values = np.where(inverted & 0x80, -magnitude, magnitude)
    return values.astype("<i2")


def _build_encode_table() -> npt.NDArray[np.uint8]:
    # Index = the 16-bit sample reinterpreted as unsigned (two's complement).
    samples = np.arange(65536, dtype=np.int32)
    samples = np.where(samples >= 32768, samples - 65536, samples)
    # G.711 works on 14-bit magnitudes; drop the two low bits first (as the reference does).
    pcm14 = samples >> 2
    negative = pcm14 < 0
    magnitude = np.where(negative, -pcm14, pcm14)
    magnitude = np.minimum(magnitude, _CLIP >> 2) + (_BIAS >> 2)
    # Segment = position of the highest set bit above bit 5 (magnitudes are 33..8191).
    exponent = np.zeros_like(magnitude)
    for bit in range(6, 13):
        exponent = np.where(magnitude >= (1 << bit), bit - 5, exponent)
    mantissa = (magnitude >> (exponent + 1)) & 0x0F
    code = (exponent << 4) | mantissa
    mask = np.where(negative, 0x7F, 0xFF)
    encoded: npt.NDArray[np.uint8] = (code ^ mask).astype(np.uint8)
    return encoded


_DECODE = _build_decode_table()
_ENCODE = _build_encode_table()


def ulaw_to_pcm16(data: bytes) -> bytes:
    """Decode μ-law bytes (one byte per sample) to PCM16 little-endian bytes."""
    codes = np.frombuffer(data, dtype=np.uint8)
    decoded: bytes = _DECODE[codes].tobytes()
    return decoded


def pcm16_to_ulaw(data: bytes) -> bytes:
    """Encode PCM16 little-endian bytes to μ-law (one byte per sample)."""
    if len(data) % 2:
        raise ValueError("PCM16 data must have an even number of bytes")
    samples = np.frombuffer(data, dtype="<u2")
    encoded: bytes = _ENCODE[samples].tobytes()
    return encoded
