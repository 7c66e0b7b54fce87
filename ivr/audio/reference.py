"""The echo reference: what the bot played, on the same time line as the caller's frames.

The playback writes each frame it sends with the time it sent it; the caller-audio path asks,
for each caller frame, for the bot audio sent during that frame's stretch of time (zeros where
the bot was silent). Times are seconds on the call's clock, passed in (pure, no clock reads).
Memory is bounded: audio older than ``keep_s`` behind the last read is dropped.
"""

from __future__ import annotations

from collections import deque

from ivr.core.audio import SAMPLE_WIDTH


class PlayedAudio:
    def __init__(self, rate: int, *, keep_s: float = 2.0) -> None:
        self.rate = rate
        self._keep = int(keep_s * rate)
        self._chunks: deque[tuple[int, bytes]] = deque()  # (first sample index, PCM16)
        self._end = 0  # sample index just after the last sample written

    def _index(self, at_s: float) -> int:
        return round(at_s * self.rate)

    def played(self, pcm: bytes, at_s: float) -> None:
        """``pcm`` left the IVR at ``at_s``; it never overlaps what was written before."""
        if not pcm:
            return
        start = max(self._index(at_s), self._end)
        self._chunks.append((start, pcm))
        self._end = start + len(pcm) // SAMPLE_WIDTH

    def clear_after(self, at_s: float) -> None:
        """Audio sent but dropped by the provider (``clear``) never reaches the caller."""
        cut = self._index(at_s)
        while self._chunks and self._chunks[-1][0] >= cut:
            self._chunks.pop()
        if self._chunks:
            start, pcm = self._chunks[-1]
            keep = max(0, cut - start) * SAMPLE_WIDTH
            if keep < len(pcm):
                self._chunks[-1] = (start, pcm[:keep])
        self._end = min(self._end, cut)

    def reference(self, nbytes: int, end_s: float) -> bytes:
        """The bot audio of the ``nbytes``-long stretch that ends at ``end_s``."""
        n = nbytes // SAMPLE_WIDTH
        end = self._index(end_s)
        start = end - n
        out = bytearray(n * SAMPLE_WIDTH)
        for first, pcm in self._chunks:
            last = first + len(pcm) // SAMPLE_WIDTH
            if last <= start or first >= end:
                continue
            lo, hi = max(first, start), min(last, end)
            out[(lo - start) * SAMPLE_WIDTH:(hi - start) * SAMPLE_WIDTH] = \
                pcm[(lo - first) * SAMPLE_WIDTH:(hi - first) * SAMPLE_WIDTH]
        horizon = start - self._keep
        while self._chunks:
            first, pcm = self._chunks[0]
            if first + len(pcm) // SAMPLE_WIDTH >= horizon:
                break
            self._chunks.popleft()
        return bytes(out)
