"""Admissions shared by every worker: the voice webhook may be answered by worker A and the
media stream land on worker B (a load balancer in front of several workers).

An admitted call is kept in Redis for ``ADMISSION_TTL_S`` under a key that names its call id
and a hash of its one-time stream token; binding a stream takes it with ``GETDEL``, so the
stream is bound once in the whole cluster, a wrong token finds nothing (and spoils nothing),
and an unused admission expires. The call's context (language, customer, dialogue facts)
travels with it; the greeting prepared on A is not, so B prepares its own.
"""

from __future__ import annotations

import hashlib
import json

from ivr.call.admission import AdmittedCall
from ivr.call.hub import ADMISSION_TTL_S
from ivr.call.model import CallContext
from ivr.cluster.bus import Bus
from ivr.core.types import Language


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RedisAdmissions:
    def __init__(self, bus: Bus, ttl_s: float = ADMISSION_TTL_S) -> None:
        self.bus = bus
        self._ttl_ms = int(ttl_s * 1000)

    def _key(self, call_id: str, token: str) -> str:
        return self.bus.key("admission", call_id, _digest(token))

    async def put(self, admitted: AdmittedCall) -> None:
        call = admitted.call
        value = {"call_id": call.call_id, "language": call.language.value,
                 "customer_id": call.customer_id, "outbound": call.outbound,
                 "metadata": dict(call.metadata)}
        await self.bus.redis.set(self._key(call.call_id, admitted.token),
                                 json.dumps(value, ensure_ascii=False), px=self._ttl_ms)

    async def take(self, call_id: str, token: str) -> CallContext | None:
        if not token:
            return None
        raw = await self.bus.redis.getdel(self._key(call_id, token))
        if raw is None:
            return None
        value = json.loads(raw)
        return CallContext(call_id=str(value["call_id"]), language=Language(value["language"]),
                           customer_id=value.get("customer_id") or None,
                           outbound=bool(value.get("outbound")),
                           metadata={str(k): str(v) for k, v in value["metadata"].items()})
