from __future__ import annotations

import pytest

from ivr.audio.chunker import FrameChunker


def test_frames_cut_across_arbitrary_chunks() -> None:
    chunker = FrameChunker(4)
    data = bytes(range(23))
    frames: list[bytes] = []
    pos = 0
    for size in (1, 5, 3, 9, 5):
        frames += chunker.push(data[pos : pos + size])
        pos += size
    assert b"".join(frames) == data[:20]
    assert all(len(f) == 4 for f in frames)
    assert chunker.pending == 3
    assert chunker.flush() == data[20:] + b"\x00"
    assert chunker.pending == 0
    assert chunker.flush() == b""


def test_flush_without_padding_and_bad_size() -> None:
    chunker = FrameChunker(320)
    assert chunker.push(b"ab") == []
    assert chunker.flush(pad=False) == b"ab"
    with pytest.raises(ValueError):
        FrameChunker(0)
