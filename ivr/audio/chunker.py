"""Cut a byte stream of arbitrary chunk sizes into fixed-size frames."""

from __future__ import annotations


class FrameChunker:
    """Buffers input and yields whole frames of ``frame_size`` bytes, keeping the remainder."""

    def __init__(self, frame_size: int) -> None:
        if frame_size <= 0:
            raise ValueError("frame_size must be positive")
        self.frame_size = frame_size
        self._buffer = bytearray()

    def push(self, data: bytes) -> list[bytes]:
        """Add data; return every complete frame now available, in order."""
        self._buffer.extend(data)
        count = len(self._buffer) // self.frame_size
        if count == 0:
            return []
        end = count * self.frame_size
        view = bytes(self._buffer[:end])
        del self._buffer[:end]
        return [view[i : i + self.frame_size] for i in range(0, end, self.frame_size)]

    @property
    def pending(self) -> int:
        """Bytes buffered that do not yet make a whole frame."""
        return len(self._buffer)

    def flush(self, pad: bool = True) -> bytes:
        """Return the remainder (zero-padded to a whole frame if ``pad``) and clear the buffer."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        if pad and rest:
            rest += b"\x00" * (self.frame_size - len(rest))
        return rest
