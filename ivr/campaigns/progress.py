"""A small text progress bar on standard error (stdlib only)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Bar:
    """``bar.update(n)`` redraws at most ten times a second on a terminal; elsewhere (logs,
    pipes) only the final line is written by ``close()``."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 width: int = 30) -> None:
        self.label, self.total, self.width = label, total, width
        self.done = 0
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._drawn = 0.0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self._tty and now - self._drawn >= 0.1:
            self._drawn = now
            self._stream.write("\r" + self.line())
            self._stream.flush()

    def line(self) -> str:
        if not self.total:
            return f"{self.label}: {self.done}"
        share = min(1.0, self.done / self.total)
        filled = int(share * self.width)
        return (f"{self.label}: [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{self.done}/{self.total} {share:4.0%}")

    def close(self) -> None:
        self._stream.write(("\r" if self._tty else "") + self.line() + "\n")
        self._stream.flush()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
