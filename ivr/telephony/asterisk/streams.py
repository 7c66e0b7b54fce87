"""AudioSocket streams the IVR expects: a UUID is announced (over ARI, as the ``data`` of the
external media channel) for one call, and the first AudioSocket connection that presents it is
bound to that call — once, and only before it expires. Any other UUID is refused. Pure: the time
is passed in."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StreamBinding:
    stream_id: uuid.UUID
    call_id: str  # the caller's ARI channel id
    params: Mapping[str, str] = field(default_factory=dict)
    expires_at: float = 0.0


class StreamRegistry:
    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._pending: dict[uuid.UUID, StreamBinding] = {}

    def announce(self, call_id: str, params: Mapping[str, str], now: float) -> uuid.UUID:
        """A fresh random UUID the call's AudioSocket connection must present."""
        self.prune(now)
        stream_id = uuid.uuid4()
        self._pending[stream_id] = StreamBinding(stream_id, call_id, dict(params),
                                                 now + self.ttl_s)
        return stream_id

    def claim(self, stream_id: uuid.UUID, now: float) -> StreamBinding | None:
        """The binding for ``stream_id`` (then forgotten), or None: unknown, used or expired."""
        binding = self._pending.pop(stream_id, None)
        if binding is None or binding.expires_at < now:
            return None
        return binding

    def forget(self, call_id: str) -> None:
        """The call ended before its audio connected."""
        for sid in [s for s, b in self._pending.items() if b.call_id == call_id]:
            del self._pending[sid]

    def prune(self, now: float) -> None:
        for sid in [s for s, b in self._pending.items() if b.expires_at < now]:
            del self._pending[sid]

    def __len__(self) -> int:
        return len(self._pending)
