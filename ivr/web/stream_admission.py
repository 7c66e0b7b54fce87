"""Whether a media stream's ``start`` may become a call session (small checks, one job each),
and what the end of an admitted stream reports.

Refusals before the ticket is checked write nothing: the call sid in an unauthenticated
``start`` is whatever the sender typed. Once the ticket proves the stream belongs to a call the
webhook answered, a refusal (capacity, media format) is recorded on that call.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from ivr.core.events import StreamStarted
from ivr.core.types import CallOutcome
from ivr.store.records import CallEvent
from ivr.web.services import Services
from ivr.web.stream_tickets import TOKEN_PARAMETER, CallContext, TicketError

log = logging.getLogger(__name__)

# The provider's inbound format (Twilio Media Streams: μ-law, 8 kHz, mono).
EXPECTED_FORMAT = ("audio/x-mulaw", 8000, 1)


class Refusal(Exception):
    """``recorded``: the stream was authenticated, so the refusal goes on the call record."""

    def __init__(self, code: str, *, recorded: bool, capacity: bool = False) -> None:
        super().__init__(code)
        self.code, self.recorded, self.capacity = code, recorded, capacity


def check_ticket(services: Services, event: StreamStarted) -> CallContext:
    try:
        return services.tickets.consume(event.call_sid, event.parameters.get(TOKEN_PARAMETER))
    except TicketError as err:
        log.warning("media stream refused for call %s: %s", event.call_sid[:10],
                    err.problem.value)
        raise Refusal(err.problem.value, recorded=False) from None


def check_format(event: StreamStarted) -> None:
    if (event.encoding, event.sample_rate, event.channels) != EXPECTED_FORMAT:
        raise Refusal("media_format", recorded=True)


def check_capacity(services: Services, call_sid: str) -> None:
    if call_sid in services.active:
        raise Refusal("duplicate_stream", recorded=False)
    if len(services.active) >= services.config.server.max_calls:
        raise Refusal("refused:capacity", recorded=True, capacity=True)


def admit(services: Services, event: StreamStarted) -> CallContext:
    """The call's context from its webhook ticket; raises :class:`Refusal`."""
    context = check_ticket(services, event)
    check_format(event)
    check_capacity(services, event.call_sid)
    return context


async def record_refusal(services: Services, call_sid: str, code: str) -> None:
    services.metrics.calls_refused += 1
    now = datetime.now(UTC)
    await services.store.add_event(CallEvent(call_sid=call_sid, kind="refused", code=code))
    await services.store.update_call(call_sid, outcome=CallOutcome.FAILED, error_code=code,
                                     ended_at=now)


async def report_to_campaign(services: Services, call_sid: str) -> None:
    """Outbound campaign calls learn their conversation outcome (others are ignored)."""
    if services.campaigns is None or not call_sid:
        return
    record = await services.store.get_call(call_sid)
    if record is not None and record.outcome is not None:
        await services.campaigns.on_call_finished(call_sid, record.outcome.value)
