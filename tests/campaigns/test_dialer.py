"""The dialer and the status callbacks with an in-memory call control and a fake clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from ivr.campaigns import admin
from ivr.campaigns.model import AttemptState, CampaignState, Purpose, TargetState
from ivr.core.types import Language
from ivr.customers.model import Channel
from ivr.telephony.provider import AnsweredBy, CallProgress, OutboundCall
from tests.campaigns.helpers import (
    CALLER_ID,
    FakeControl,
    Harness,
    customer,
    fast_policy,
    harness,
    http_error,
)


async def _campaign(h: Harness, ids: list[str], **policy: object) -> str:
    await h.customers.upsert_customers([customer(cid) for cid in ids if cid != "missing"])
    campaign = await admin.create(h.ctx, "callback", campaign_id="c1",
                                  policy=fast_policy(**policy).to_json())
    await admin.import_targets(h.ctx, "c1", ids)
    await admin.start(h.ctx, campaign.id)
    return campaign.id


async def _tick(h: Harness) -> int:
    started = await h.service.tick()
    await h.service.dialer.drain()
    return started


def _control(h: Harness) -> FakeControl:
    assert isinstance(h.control, FakeControl)
    return h.control


async def test_dial_writes_attempt_and_carries_the_campaign(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a"], reward="100 points")
        assert await _tick(h) == 1
        placed = _control(h).placed[0]
        attempt = (await h.store.list_attempts("c1"))[0]
        assert placed["from"] == CALLER_ID and placed["amd"] is True
        assert placed["params"] == {"customer_id": "a", "campaign_id": "c1",
                                    "attempt_id": attempt.id, "campaign_reward": "100 points"}
        assert (attempt.state, attempt.call_sid, attempt.attempt_no) == (
            AttemptState.INITIATED, placed["sid"], 1)
        target = await h.store.get_target("c1", "a")
        assert target is not None and target.state is TargetState.IN_PROGRESS
        assert await _tick(h) == 0, "a live target is never dialled again"


async def test_busy_then_answer_on_retry(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a"])
        await _tick(h)
        sid = _control(h).placed[0]["sid"]
        attempt = (await h.store.list_attempts("c1"))[0]
        await h.service.on_call_status(sid, CallProgress.RINGING, None, attempt.id)
        await h.service.on_call_status(sid, CallProgress.BUSY, None, attempt.id)
        # repeated: no effect
        await h.service.on_call_status(sid, CallProgress.BUSY, None, attempt.id)
        target = await h.store.get_target("c1", "a")
        assert target is not None and target.state is TargetState.RETRYING
        assert target.next_at == h.clock.now + timedelta(seconds=600)
        assert await _tick(h) == 0, "back-off not over yet"
        h.clock.advance(seconds=600)
        assert await _tick(h) == 1
        second = _control(h).placed[1]["sid"]
        retry = (await h.store.list_attempts("c1"))[1]
        assert retry.attempt_no == 2
        await h.service.on_call_status(second, CallProgress.ANSWERED, AnsweredBy.HUMAN, retry.id)
        await h.service.on_call_finished(second, "completed")
        await h.service.on_call_status(second, CallProgress.COMPLETED, None, retry.id)
        target = await h.store.get_target("c1", "a")
        assert target is not None
        assert (target.state, target.last_outcome, target.attempts) == (
            TargetState.COMPLETED, "completed", 2)
        done = await h.store.get_attempt(retry.id)
        assert done is not None and done.answered_by == "human" and done.answered_at
        await _tick(h)
        campaign = await h.store.get_campaign("c1")
        assert campaign is not None and campaign.state is CampaignState.DONE


async def test_never_answers_gets_sms_after_last_attempt(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a"], max_attempts=3)
        for n in range(3):
            await _tick(h)
            attempt = (await h.store.list_attempts("c1"))[n]
            assert attempt.attempt_no == n + 1
            await h.service.on_call_status(attempt.call_sid or "", CallProgress.NO_ANSWER, None,
                                           attempt.id)
            h.clock.advance(hours=2)
        target = await h.store.get_target("c1", "a")
        assert target is not None and target.state is TargetState.FALLBACK_PENDING
        await _tick(h)
        target = await h.store.get_target("c1", "a")
        assert target is not None and target.state is TargetState.FALLBACK
        assert target.fallback_channel == "sms" and target.fallback_token
        (to, from_, body), = _control(h).sms
        assert from_ == CALLER_ID and to.startswith("+86")
        assert f"https://survey.example.com/s/{target.fallback_token}" in body
        assert "问卷" in body
        assert len(_control(h).placed) == 3


async def test_voicemail_hangs_up_and_counts_as_unreached(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a"])
        await _tick(h)
        attempt = (await h.store.list_attempts("c1"))[0]
        sid = attempt.call_sid or ""
        await h.service.on_call_status(sid, CallProgress.ANSWERED, None, attempt.id)
        await h.service.on_call_status(sid, None, AnsweredBy.MACHINE, attempt.id)  # async AMD
        await h.service.on_call_finished(sid, "abandoned")
        await h.service.on_call_status(sid, CallProgress.COMPLETED, None, attempt.id)
        stored = await h.store.get_attempt(attempt.id)
        assert stored is not None
        assert (stored.state, stored.answered_by, stored.voicemail_action, stored.outcome) == (
            AttemptState.VOICEMAIL, "machine", "hangup", "abandoned")
        assert _control(h).hangups == [sid]
        target = await h.store.get_target("c1", "a")
        assert target is not None and target.state is TargetState.RETRYING


async def test_human_amd_result_never_delays_or_changes_the_call(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a"])
        await _tick(h)
        attempt = (await h.store.list_attempts("c1"))[0]
        sid = attempt.call_sid or ""
        await h.service.on_call_status(sid, CallProgress.ANSWERED, None, attempt.id)
        await h.service.on_call_status(sid, None, AnsweredBy.HUMAN, attempt.id)
        stored = await h.store.get_attempt(attempt.id)
        assert stored is not None
        assert (stored.state, stored.answered_by) == (AttemptState.IN_PROGRESS, "human")
        assert not _control(h).hangups


async def test_provider_errors(tmp_path: Path) -> None:
    control = FakeControl(fail=[http_error(503), http_error(400, 21211), http_error(0)])
    async with harness(tmp_path, control) as h:
        await _campaign(h, ["a", "b", "c"], max_concurrent=1)
        states = []
        for _ in range(3):
            await _tick(h)
            attempts = await h.store.list_attempts("c1")
            states.append((attempts[-1].customer_id, attempts[-1].state))
        assert states == [("a", AttemptState.ERROR), ("b", AttemptState.ERROR),
                          ("c", AttemptState.UNKNOWN)]
        a, b, c = [await h.store.get_target("c1", x) for x in "abc"]
        assert a is not None and a.state is TargetState.RETRYING  # 503: nothing was created
        assert b is not None and (b.state, b.reason) == (TargetState.FAILED,
                                                          "provider_refused:21211")
        assert c is not None and c.state is TargetState.UNKNOWN  # timeout: maybe a call
        h.clock.advance(hours=1)
        await _tick(h)
        assert [p["to"] for p in control.placed] == [customer("a").phone]
        retry = (await h.store.list_attempts("c1"))[-1]
        await h.service.on_call_status(retry.call_sid or "", CallProgress.COMPLETED, None, retry.id)
        assert await admin.requeue_unknown(h.ctx, "c1") == 1
        await _tick(h)
        assert [p["to"] for p in control.placed][-1] == customer("c").phone


async def test_concurrency_limit_and_calls_per_second(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        ids = [f"k{i}" for i in range(7)]
        await _campaign(h, ids, max_concurrent=3, calls_per_second=2.0)
        assert await _tick(h) == 3
        assert h.clock.slept == [0.5, 0.5]
        assert await _tick(h) == 0
        first = (await h.store.list_attempts("c1"))[0]
        await h.service.on_call_status(first.call_sid or "", CallProgress.BUSY, None, first.id)
        assert await _tick(h) == 1
        counts = admin.group_counts(await h.store.state_counts("c1"))
        assert counts["in_progress"] == 3 and counts["queued"] == 3 and counts["retrying"] == 1


async def test_do_not_call_opt_out_and_caps(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.customers.upsert_customers([
            customer("dnc"), customer("opt", marketing_opt_out=True), customer("new"),
            customer("old", pre_review_passed_at=h.clock.now - timedelta(days=300)),
            customer("ok", marketing_opt_out=False)])
        # An earlier campaign already reached "new" and "old".
        await admin.create(h.ctx, "earlier", campaign_id="c0", policy=fast_policy().to_json())
        await admin.import_targets(h.ctx, "c0", ["new", "old"])
        await admin.start(h.ctx, "c0")
        await _tick(h)
        await admin.pause(h.ctx, "c0")
        h.clock.advance(days=1)
        await admin.create(h.ctx, "promo", campaign_id="c1", purpose=Purpose.MARKETING,
                           policy=fast_policy(max_calls_per_period=1).to_json())
        await admin.import_targets(h.ctx, "c1", ["dnc", "opt", "new", "old", "ok", "missing"])
        await admin.add_dnc(h.ctx, "c1", ["dnc"], "asked not to be called")
        await admin.start(h.ctx, "c1")
        before = len(_control(h).placed)
        await _tick(h)
        reasons = {t.customer_id: (t.state, t.reason)
                   for t in await h.store.list_targets("c1")}
        assert reasons == {
            "dnc": (TargetState.SKIPPED, "do_not_call"),
            "opt": (TargetState.SKIPPED, "marketing_opt_out"),
            "new": (TargetState.SKIPPED, "cap_new_user"),
            "old": (TargetState.SKIPPED, "cap_period"),
            "ok": (TargetState.IN_PROGRESS, None),
        }
        assert len(_control(h).placed) == before + 1


async def test_global_dnc_stops_retries(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a"])
        await _tick(h)
        attempt = (await h.store.list_attempts("c1"))[0]
        await h.service.on_call_status(attempt.call_sid or "", CallProgress.NO_ANSWER, None,
                                       attempt.id)
        await admin.add_dnc(h.ctx, "*", ["a"], "complaint about calls")
        h.clock.advance(hours=1)
        await _tick(h)
        target = await h.store.get_target("c1", "a")
        assert target is not None and (target.state, target.reason) == (TargetState.FAILED,
                                                                         "do_not_call")
        assert len(_control(h).placed) == 1


async def test_calling_window_defers_to_local_time(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.customers.upsert_customers([customer("ny", timezone="America/New_York")])
        await admin.create(h.ctx, "c", campaign_id="c1")  # default windows
        await admin.import_targets(h.ctx, "c1", ["ny"])
        await admin.start(h.ctx, "c1")
        assert await _tick(h) == 0  # 07:00 in New York
        target = await h.store.get_target("c1", "ny")
        assert target is not None and target.next_at is not None
        assert target.next_at.astimezone(h.clock.now.tzinfo) == h.clock.now + timedelta(hours=5)
        h.clock.advance(hours=5)
        assert await _tick(h) == 1


async def test_pause_and_resume(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a", "b"], max_concurrent=1)
        await admin.pause(h.ctx, "c1")
        assert await _tick(h) == 0
        await admin.resume(h.ctx, "c1")
        assert await _tick(h) == 1


async def test_callback_before_originate_returns(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a"])
        control = _control(h)
        inner = control.originate

        async def early(call: OutboundCall) -> str:
            sid = await inner(call)
            await h.service.on_call_status(sid, CallProgress.RINGING, None,
                                           call.params["attempt_id"])
            return sid

        control.originate = early  # type: ignore[method-assign]
        await _tick(h)
        attempt = (await h.store.list_attempts("c1"))[0]
        assert attempt.state is AttemptState.RINGING and attempt.call_sid
        target = await h.store.get_target("c1", "a")
        assert target is not None and target.state is TargetState.IN_PROGRESS


async def test_email_fallback_falls_back_to_sms_without_mailer(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await h.customers.upsert_customers([
            customer("m", preferred_channel=Channel.EMAIL, email="m@example.com",
                     language=Language.EN, title="Ms. Li"),
            customer("n", preferred_channel=Channel.NONE)])
        await admin.create(h.ctx, "c", campaign_id="c1",
                           policy=fast_policy(max_attempts=1).to_json())
        await admin.import_targets(h.ctx, "c1", ["m", "n"])
        await admin.start(h.ctx, "c1")
        await _tick(h)
        for attempt in await h.store.list_attempts("c1"):
            await h.service.on_call_status(attempt.call_sid or "", CallProgress.FAILED, None,
                                           attempt.id)
        await _tick(h)
        m, n = await h.store.get_target("c1", "m"), await h.store.get_target("c1", "n")
        assert m is not None and m.fallback_channel == "sms"
        assert n is not None and (n.state, n.reason) == (TargetState.FAILED,
                                                          "no_fallback_channel")
        (_, _, body), = _control(h).sms
        assert body.startswith("Wallet: Hello Ms. Li")


async def test_stale_calls_become_unknown(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await _campaign(h, ["a"])
        await _tick(h)
        h.clock.advance(hours=3)
        await _tick(h)
        target = await h.store.get_target("c1", "a")
        assert target is not None and (target.state, target.reason) == (TargetState.UNKNOWN,
                                                                         "status_lost")
        assert len(_control(h).placed) == 1
