"""One ``CallControl`` over every configured provider, for the parts that control calls without
knowing their provider (agent handoff, campaigns).

A live call is controlled through the provider whose adapter owns it (the adapter knows its
calls; nothing is guessed from the shape of an id). An outbound call goes through the provider
its caller id belongs to (``OutboundRule``), else the default. Text messages go to the first
provider that can send them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ivr.core.errors import ProviderApiError
from ivr.telephony.base import TransferTarget
from ivr.telephony.provider import CallControl, OutboundCall

# The provider's control now (None while it has none: not started, no credentials).
ControlSource = Callable[[], CallControl | None]
# Whether a provider's adapter owns a call id (a live or placed call of its own).
Owns = Callable[[str], bool]


@dataclass(frozen=True)
class Route:
    name: str
    control: ControlSource
    owns: Owns | None = None  # None: the fallback for calls no other route owns
    numbers: frozenset[str] = field(default_factory=frozenset)  # caller ids it dials from


class RoutingControl:
    def __init__(self, routes: Sequence[Route], *, outbound_default: str) -> None:
        self._routes = list(routes)
        self._by_name: Mapping[str, Route] = {r.name: r for r in routes}
        if outbound_default not in self._by_name:
            raise ValueError(f"unknown outbound provider {outbound_default!r}")
        self._outbound_default = outbound_default

    def provider_of(self, call_id: str) -> str:
        for route in self._routes:
            if route.owns is not None and route.owns(call_id):
                return route.name
        for route in self._routes:
            if route.owns is None:
                return route.name
        raise ProviderApiError(f"no provider owns call {call_id[:12]}")

    def outbound_provider(self, call: OutboundCall) -> str:
        for route in self._routes:
            if call.from_ in route.numbers:
                return route.name
        return self._outbound_default

    def _control(self, name: str) -> CallControl:
        control = self._by_name[name].control()
        if control is None:
            raise ProviderApiError(f"{name}: no call control configured")
        return control

    @property
    def available(self) -> bool:
        """Whether outbound calls can be placed at all."""
        return self._by_name[self._outbound_default].control() is not None

    async def transfer(self, call_id: str, target: TransferTarget) -> None:
        await self._control(self.provider_of(call_id)).transfer(call_id, target)

    async def hangup(self, call_id: str) -> None:
        await self._control(self.provider_of(call_id)).hangup(call_id)

    async def originate(self, call: OutboundCall) -> str:
        return await self._control(self.outbound_provider(call)).originate(call)

    async def send_sms(self, to: str, from_: str, body: str) -> str:
        for route in self._routes:
            send = getattr(route.control(), "send_sms", None)
            if send is not None:
                message_id: str = await send(to, from_, body)
                return message_id
        raise ProviderApiError("no provider configured for text messages")
