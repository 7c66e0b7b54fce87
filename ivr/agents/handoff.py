"""The live handoff: escalated callers wait in the persistent agent queue, hear their position
and hold audio (not transcribed), and are transferred through the provider when an agent
accepts. A failed transfer puts the caller back at the head of the queue; a long wait, agent
hours over or nobody logged in sends the caller back to the dialogue, which asks when an agent
should call back; a caller who hangs up is recorded as abandoned with the wait time.

With several workers an agent may accept, on worker A, a caller held on worker B: the entry
is taken in the shared store on A, and the offer goes to B (``remote``, over Redis), where the
transfer happens exactly as if the agent had clicked there."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ivr.agents.accounts import Agent
from ivr.agents.availability import Availability
from ivr.agents.queue import AgentQueue, QueueEntry, TransferFailed
from ivr.call.prompts import PromptBook, SystemPrompt
from ivr.core.errors import ProviderApiError
from ivr.core.types import CallOutcome
from ivr.customers.service import CustomerService
from ivr.dialogue.turns import Handoff
from ivr.store.base import Store
from ivr.telephony.provider import CallControl

if TYPE_CHECKING:
    from ivr.call.handle import DriverHandle as CallSession

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often the hold loop re-checks the queue position
# Sent to the dialogue when no agent is there: it asks when an agent should call back.
AGENT_UNAVAILABLE = "/agent_unavailable"


class RemoteOffers(Protocol):
    async def offer(self, worker: str, entry: QueueEntry, agent: Agent) -> None:
        """Have ``worker`` (holding the caller) transfer the accepted ``entry`` to ``agent``;
        raises TransferFailed."""
        ...


@dataclass
class _Waiter:
    """One caller on hold; the dashboard's Accept hands it an agent and awaits the result."""

    session: CallSession
    entry: QueueEntry
    offers: asyncio.Queue[tuple[Agent, asyncio.Future[None]]] = field(
        default_factory=lambda: asyncio.Queue(4)
    )


class QueueHandoff:
    """Both sides of the handoff: ``handoff`` for the call session, ``accept`` for the dashboard."""

    def __init__(
        self,
        queue: AgentQueue,
        control: CallControl | None,
        store: Store,
        customers: CustomerService | None,
        prompts: PromptBook,
        hold_audio: bytes,
        *,
        max_wait_s: float,
        transfer_timeout_s: float,
        availability: Availability | None = None,
    ) -> None:
        self._queue = queue
        self._control = control
        self._store = store
        self._customers = customers
        self._prompts = prompts
        self._hold = hold_audio
        self._max_wait = max_wait_s
        self._transfer_timeout = transfer_timeout_s
        self._availability = availability  # None: agents are always there
        self._waiting: dict[str, _Waiter] = {}
        self.transfer_request_ms: list[float] = []
        self.remote: RemoteOffers | None = None  # callers held by other workers

    # ---- dashboard side ----------------------------------------------------------------

    async def accept(self, entry_id: int, agent: Agent) -> None:
        """Atomically take the call (``AlreadyTaken`` for the loser) and transfer it, here
        or on the worker holding the caller."""
        entry = await self._queue.accept(entry_id, agent.id)
        held_elsewhere = entry.call_sid not in self._waiting and entry.worker != self._queue.worker
        if held_elsewhere and self.remote is not None:
            await self.remote.offer(entry.worker, entry, agent)
            return
        await self.deliver(entry, agent)

    async def deliver(self, entry: QueueEntry, agent: Agent) -> None:
        """Hand an accepted entry to its caller's hold loop on this worker and wait for the
        transfer (``TransferFailed``: the caller is gone, or the provider refused)."""
        waiter = self._waiting.get(entry.call_sid)
        if waiter is None:
            await self._queue.finish(entry.call_sid, "orphaned")
            raise TransferFailed("the caller is no longer on the line")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter.offers.put_nowait((agent, done))
        await asyncio.wait_for(asyncio.shield(done), self._transfer_timeout + 15)

    # ---- call side ---------------------------------------------------------------------

    async def handoff(self, session: CallSession, handoff: Handoff) -> None:
        call_sid = session.info.call_sid
        if self._availability is not None:
            refusal = await self._availability.refusal(session.lang)
            if refusal is not None:
                await self._no_agent(session, handoff, refusal)
                return
        context = await self._context(session, handoff)
        entry = await self._queue.enqueue(call_sid, handoff.reason, handoff.priority,
                                          session.lang.value, context)
        waiter = _Waiter(session, entry)
        self._waiting[call_sid] = waiter
        started = time.monotonic()
        session.hold()
        outcome = "abandoned"
        try:
            outcome = await self._hold_until_done(waiter, started)
        finally:
            self._waiting.pop(call_sid, None)
            wait_s = round(time.monotonic() - started, 1)
            # On shutdown the entry stays queued: the next start marks it orphaned and books
            # a callback (``recover_after_restart``), as after a crash.
            if not session.shutting_down:
                await asyncio.shield(self._close_entry(session, outcome, wait_s))

    async def _no_agent(self, session: CallSession, handoff: Handoff, refusal: str) -> None:
        """Nobody to take the call: say so at once, then the dialogue asks when to call back."""
        await session.record(queue_result="no_agent", queue_wait_s=0.0)
        await session.event("no_agent", refusal, {"reason": handoff.reason})
        # The dialogue prepares its question while the notice plays (no silent gap).
        await session.say(self._prompts.text(SystemPrompt.NO_AGENT, session.lang), wait=False)
        await session.back_to_dialogue(AGENT_UNAVAILABLE)

    async def _close_entry(self, session: CallSession, outcome: str, wait_s: float) -> None:
        await session.record(queue_wait_s=wait_s, queue_result=outcome)
        if outcome != "transferred":
            try:
                await self._queue.finish(session.info.call_sid, outcome, wait_s=wait_s)
            except Exception:
                log.exception("call %s: could not close its queue entry", session.info.call_sid)

    async def _hold_until_done(self, waiter: _Waiter, started: float) -> str:
        """Announce the position when it changes and keep hold audio queued, while staying
        ready to take an agent's offer at any moment (never blocked on playback)."""
        session = waiter.session
        announced: int | None = None
        while True:
            position = await self._queue.position(session.info.call_sid)
            if position is not None and position != announced:
                text = self._prompts.text(SystemPrompt.QUEUE_POSITION, session.lang)
                await session.say(text.format(n=position), wait=False)
                announced = position
            remaining = self._max_wait - (time.monotonic() - started)
            if remaining <= 0:
                await self._timeout(session)
                return "timed_out"
            if not session.playing:
                await session.play(self._hold)
            try:
                agent, done = await asyncio.wait_for(waiter.offers.get(),
                                                     min(POLL_S, remaining))
            except TimeoutError:
                continue
            if await self._transfer(waiter, agent, done):
                return "transferred"

    async def _transfer(self, waiter: _Waiter, agent: Agent,
                        done: asyncio.Future[None]) -> bool:
        session = waiter.session
        call_sid = session.info.call_sid
        await session.stop_audio()
        # The provider cuts the media stream once it runs the new TwiML, so the notice is
        # started, not waited for: the transfer request goes out at once.
        await session.say(self._prompts.text(SystemPrompt.TRANSFER_CONNECTING, session.lang),
                          wait=False)
        started = time.monotonic()
        try:
            if self._control is None:
                raise ProviderApiError("no provider REST credentials configured")
            await asyncio.wait_for(self._control.transfer(call_sid, agent.target),
                                   self._transfer_timeout)
            self.transfer_request_ms.append((time.monotonic() - started) * 1000)
        except (ProviderApiError, TimeoutError) as exc:
            log.warning("call %s: transfer to agent %s failed: %s", call_sid, agent.id, exc)
            await self._queue.requeue_head(waiter.entry.id)
            await session.event("transfer_failed", "provider_error", {"agent": agent.id})
            done.set_exception(TransferFailed(f"transfer failed: {exc}"))
            await session.stop_audio()
            await session.say(self._prompts.text(SystemPrompt.TRANSFER_FAILED, session.lang),
                              wait=False)
            return False
        await self._queue.finish(call_sid, "transferred")
        await session.record(agent_id=agent.id, agent=agent.display_name)
        await session.event("transferred", agent.target.kind.value, {"agent": agent.id})
        done.set_result(None)
        await session.end_for_handoff(CallOutcome.ESCALATED, None)
        return True

    async def _timeout(self, session: CallSession) -> None:
        """Waited too long: say so, then the dialogue asks when an agent should call back
        (the callback is booked at the time the caller chooses)."""
        await session.stop_audio()
        await session.say(self._prompts.text(SystemPrompt.QUEUE_TIMEOUT, session.lang),
                          wait=False)
        await session.back_to_dialogue(AGENT_UNAVAILABLE)

    async def _context(self, session: CallSession, handoff: Handoff) -> dict[str, Any]:
        """The agent's context card (everything already masked by the store)."""
        call = await self._store.get_call(session.info.call_sid)
        details = dict(call.details) if call is not None else {}
        turns = await self._store.get_turns(session.info.call_sid)
        profile: dict[str, Any] | None = None
        if self._customers is not None and session.info.customer_id:
            profile = await self._customers.profile(session.info.customer_id)
        customer = {k: profile.get(k) for k in ("customer_id", "name", "title",
                                                "phone_masked", "card_last4", "city",
                                                "activation_status")} if profile else {}
        return {
            "customer": customer,
            "reason": handoff.reason,
            "priority": handoff.priority.value,
            "language": session.lang.value,
            "identity_verified": details.get("identity_verified"),
            "confirmed_fields": details.get("confirmed_fields", []),
            "corrections": details.get("corrections", []),
            "faq_topics": details.get("faq_topics", []),
            "rating": details.get("rating"),
            "transcript": [{"role": t.role.value, "text": t.text} for t in turns],
        }
