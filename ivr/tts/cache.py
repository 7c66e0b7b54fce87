"""On-disk prompt cache: telephone-ready PCM keyed by everything that shapes the audio.

Entries are WAV files (PCM16 mono 8 kHz) under ``root/<2 hex>/<key>.wav``. Writes go to a
temporary file in the same directory and are renamed into place, so concurrent processes only
ever see complete entries; two writers of one key simply race to an identical result.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

from ivr.core.audio import SAMPLE_WIDTH, Pcm


def cache_key(engine: str, voice_id: str, rate_wpm: int, volume: float, text: str) -> str:
    """sha256 over a canonical JSON encoding of the inputs (no ambiguity between fields)."""
    blob = json.dumps([engine, voice_id, rate_wpm, round(volume, 4), text], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int
    misses: int
    writes: int


class PromptCache:
    """Blocking file I/O: call from a worker thread (``asyncio.to_thread``) in async code."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._hits = self._misses = self._writes = 0

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / key[:2] / f"{key}.wav"

    def get(self, key: str) -> Pcm | None:
        try:
            with wave.open(str(self._path(key)), "rb") as wav:
                if wav.getnchannels() != 1 or wav.getsampwidth() != SAMPLE_WIDTH:
                    raise wave.Error("unexpected format")
                pcm = Pcm(wav.readframes(wav.getnframes()), wav.getframerate())
        except (FileNotFoundError, wave.Error, EOFError):
            self._count(hit=False)
            return None
        self._count(hit=True)
        return pcm

    def put(self, key: str, pcm: Pcm) -> None:
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(SAMPLE_WIDTH)
            wav.setframerate(pcm.rate)
            wav.writeframes(pcm.data)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".wav", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(buf.getvalue())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            raise
        with self._lock:
            self._writes += 1

    def _count(self, *, hit: bool) -> None:
        with self._lock:
            if hit:
                self._hits += 1
            else:
                self._misses += 1

    @property
    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, self._writes)
