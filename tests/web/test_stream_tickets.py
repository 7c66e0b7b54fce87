"""One-time, short-lived, per-call stream tickets (pure, fake clock)."""

from __future__ import annotations

import pytest

from ivr.core.types import Language
from ivr.web.stream_tickets import CallContext, StreamTickets, TicketError, TicketProblem


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ctx(sid: str) -> CallContext:
    return CallContext(sid, Language.ZH, "c-1", metadata={"campaign_id": "x"})


def problem(tickets: StreamTickets, sid: str, token: str | None) -> TicketProblem:
    with pytest.raises(TicketError) as err:
        tickets.consume(sid, token)
    return err.value.problem


def test_a_ticket_admits_its_call_once() -> None:
    tickets = StreamTickets(30, clock=Clock())
    token = tickets.issue(ctx("CA1"))
    assert tickets.consume("CA1", token) == ctx("CA1")
    assert problem(tickets, "CA1", token) is TicketProblem.UNKNOWN


def test_wrong_call_missing_or_wrong_token() -> None:
    tickets = StreamTickets(30, clock=Clock())
    token_a = tickets.issue(ctx("CA1"))
    tickets.issue(ctx("CA2"))
    assert problem(tickets, "CA2", token_a) is TicketProblem.WRONG
    assert problem(tickets, "CA3", token_a) is TicketProblem.UNKNOWN
    assert problem(tickets, "CA1", None) is TicketProblem.MISSING
    assert problem(tickets, "CA1", "") is TicketProblem.MISSING
    assert tickets.consume("CA1", token_a).call_sid == "CA1"  # a wrong guess burns nothing


def test_tickets_expire_and_are_swept() -> None:
    clock = Clock()
    tickets = StreamTickets(30, clock=clock)
    token = tickets.issue(ctx("CA1"))
    clock.now += 30.5
    assert problem(tickets, "CA1", token) is TicketProblem.EXPIRED
    tickets.issue(ctx("CA2"))
    clock.now += 31
    tickets.issue(ctx("CA3"))
    assert len(tickets) == 1


def test_reissue_revokes_the_old_token_and_capacity_is_bounded() -> None:
    tickets = StreamTickets(30, capacity=3, clock=Clock())
    old = tickets.issue(ctx("CA1"))
    new = tickets.issue(ctx("CA1"))
    assert problem(tickets, "CA1", old) is TicketProblem.WRONG
    for i in range(2, 6):
        tickets.issue(ctx(f"CA{i}"))
    assert len(tickets) == 3
    assert problem(tickets, "CA1", new) is TicketProblem.UNKNOWN
