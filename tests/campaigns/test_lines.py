"""Campaign lines: a call holds one of the campaign's ``max_concurrent`` lines until the
provider reports it over, not merely until the IVR is done with it (the session ended, a
machine answered), so the carrier never carries more calls than the cap. A refused dial
holds none; a lost final status holds its line ``line_grace_s`` after the call ended at most."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ivr.campaigns import admin
from ivr.campaigns.model import Attempt, AttemptState, TargetState
from ivr.telephony.provider import AnsweredBy, CallProgress
from tests.campaigns.helpers import FakeControl, Harness, customer, fast_policy, harness, http_error


async def _campaign(h: Harness, ids: list[str], **policy: object) -> None:
    await h.customers.upsert_customers([customer(cid) for cid in ids])
    await admin.create(h.ctx, "lines", campaign_id="c1", policy=fast_policy(**policy).to_json())
    await admin.import_targets(h.ctx, "c1", ids)
    await admin.start(h.ctx, "c1")


async def _tick(h: Harness) -> int:
    started = await h.service.tick()
    await h.service.dialer.drain()
    return started


async def _attempt(h: Harness, customer_id: str) -> Attempt:
    (attempt,) = [a for a in await h.store.list_attempts("c1") if a.customer_id == customer_id]
    return attempt


async def _status(h: Harness, attempt: Attempt, progress: CallProgress | None,
                  answered_by: AnsweredBy | None = None) -> None:
    await h.service.on_call_status(attempt.call_sid or "", progress, answered_by, attempt.id)


def _dialled(h: Harness) -> list[str]:
    assert isinstance(h.control, FakeControl)
    return [p["params"]["customer_id"] for p in h.control.placed]


async def _session_ends(h: Harness, attempt: Attempt) -> None:
    """A person answered, talked to the bot, and the IVR's call session is over."""
    await _status(h, attempt, CallProgress.ANSWERED, AnsweredBy.HUMAN)
    await h.service.on_call_finished(attempt.call_sid or "", "completed")


async def _machine_answers(h: Harness, attempt: Attempt) -> None:
    """Answering-machine detection: the IVR records voicemail and asks for the hang-up."""
    await _status(h, attempt, CallProgress.ANSWERED)
    await _status(h, attempt, None, AnsweredBy.MACHINE)


async def test_a_finished_session_keeps_its_line_until_the_final_status(
        tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a", "b", "c"], max_concurrent=2)
        assert await _tick(h) == 2
        first = await _attempt(h, "a")
        await _session_ends(h, first)
        closed = await h.store.get_attempt(first.id)
        target = await h.store.get_target("c1", "a")
        assert closed is not None and closed.state is AttemptState.COMPLETED
        assert target is not None and target.state is TargetState.COMPLETED
        assert await _tick(h) == 0, "the call is still up at the provider"
        assert await h.store.count_lines_held("c1") == 2

        h.clock.advance(seconds=5)
        await _status(h, first, CallProgress.COMPLETED)
        released = await h.store.get_attempt(first.id)
        assert released is not None and released.line_released_at == h.clock.now
        assert released.state is AttemptState.COMPLETED
        assert await _tick(h) == 1
        assert _dialled(h) == ["a", "b", "c"]


async def test_voicemail_keeps_its_line_until_the_final_status(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a", "b"], max_concurrent=1)
        assert await _tick(h) == 1
        first = await _attempt(h, "a")
        await _machine_answers(h, first)
        assert isinstance(h.control, FakeControl) and h.control.hangups == [first.call_sid]
        voicemail = await h.store.get_attempt(first.id)
        assert voicemail is not None and voicemail.state is AttemptState.VOICEMAIL
        assert await _tick(h) == 0, "the hang-up was only requested"

        await _status(h, first, CallProgress.COMPLETED)
        assert await _tick(h) == 1
        assert _dialled(h) == ["a", "b"]
        done = await h.store.get_attempt(first.id)
        assert done is not None and done.state is AttemptState.VOICEMAIL


@pytest.mark.parametrize("progress", [CallProgress.BUSY, CallProgress.NO_ANSWER,
                                      CallProgress.FAILED, CallProgress.CANCELED])
async def test_an_unreached_final_status_frees_the_line(tmp_path: Path,
                                                        progress: CallProgress) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a", "b"], max_concurrent=1)
        assert await _tick(h) == 1
        first = await _attempt(h, "a")
        await _status(h, first, CallProgress.RINGING)
        assert await _tick(h) == 0
        await _status(h, first, progress)
        assert await _tick(h) == 1
        assert _dialled(h) == ["a", "b"]


async def test_a_refused_dial_frees_the_line_at_once(tmp_path: Path) -> None:
    control = FakeControl(fail=[http_error(400, 21211)])
    async with harness(tmp_path, control) as h:
        await _campaign(h, ["a", "b"], max_concurrent=1)
        assert await _tick(h) == 1
        refused = await _attempt(h, "a")
        assert refused.state is AttemptState.ERROR and refused.call_sid is None
        assert await h.store.count_lines_held("c1") == 0
        assert await _tick(h) == 1, "no call exists: nothing to wait for"
        assert _dialled(h) == ["b"]


@pytest.mark.parametrize("closes", ["session", "machine"])
async def test_a_lost_final_status_holds_the_line_until_the_grace_bound(
        tmp_path: Path, closes: str) -> None:
    async with harness(tmp_path) as h:
        grace = h.ctx.settings.line_grace_s
        await _campaign(h, ["a", "b"], max_concurrent=1)
        assert await _tick(h) == 1
        first = await _attempt(h, "a")
        assert first.dialed_at is not None
        h.clock.advance(seconds=30)
        await (_session_ends(h, first) if closes == "session" else _machine_answers(h, first))

        closed = await h.store.get_attempt(first.id)
        assert closed is not None and closed.ended_at is not None
        h.clock.now = closed.ended_at + timedelta(seconds=grace)
        assert await _tick(h) == 0, "within the grace"
        h.clock.advance(seconds=1)
        assert await _tick(h) == 1, "the lost callback no longer blocks the campaign"
        assert _dialled(h) == ["a", "b"]
        released = await h.store.get_attempt(first.id)
        assert released is not None and released.line_released_at == h.clock.now
        assert released.state in (AttemptState.COMPLETED, AttemptState.VOICEMAIL)
        assert (released.state is AttemptState.COMPLETED) == (closes == "session")


async def test_a_repeated_or_late_final_status_changes_nothing(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a", "b", "c"], max_concurrent=2)
        assert await _tick(h) == 2
        first = await _attempt(h, "a")
        await _session_ends(h, first)
        await _status(h, first, CallProgress.COMPLETED)
        settled = await h.store.get_attempt(first.id)
        target = await h.store.get_target("c1", "a")
        assert settled is not None and settled.line_released_at == h.clock.now

        h.clock.advance(seconds=60)
        for progress in (CallProgress.COMPLETED, CallProgress.CANCELED, CallProgress.RINGING):
            await _status(h, first, progress)
        assert await h.store.get_attempt(first.id) == settled
        assert await h.store.get_target("c1", "a") == target
        assert await h.store.count_lines_held("c1") == 1
        assert await _tick(h) == 1
        assert await _tick(h) == 0
        assert _dialled(h) == ["a", "b", "c"]


async def test_an_unknown_attempt_holds_a_line_again_when_its_call_shows_up(
        tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a", "b", "c"], max_concurrent=1)
        await _tick(h)
        first = await _attempt(h, "a")
        await h.store.update_attempt(first.id, state=AttemptState.UNKNOWN)
        await h.store.update_target("c1", "a", h.clock.now, state=TargetState.UNKNOWN)
        assert await h.store.count_lines_held("c1") == 0, "declared lost: no line"
        await _status(h, first, CallProgress.RINGING)  # a late report: the call exists
        assert await h.store.count_lines_held("c1") == 1
        assert await _tick(h) == 0
        await _status(h, first, CallProgress.NO_ANSWER)
        assert await _tick(h) == 1
        assert _dialled(h) == ["a", "b"]
