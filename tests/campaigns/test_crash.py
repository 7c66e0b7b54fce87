"""Restart safety: a customer is never dialled twice for the same attempt, even when the
process dies between writing the attempt and recording the provider's answer."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import aiohttp

from ivr.campaigns import admin
from ivr.campaigns.model import AttemptState, TargetState
from ivr.telephony.provider import AnsweredBy, CallProgress, OutboundCall
from ivr.telephony.twilio.control import TwilioControl
from ivr.telephony.twilio.rest import TwilioRestClient
from tests.campaigns.helpers import FakeClock, FakeControl, customer, fast_policy, harness
from tests.telephony.fake_twilio_rest import FakeTwilioRest

ROOT = Path(__file__).resolve().parents[2]


class DiesAfterRequest(FakeControl):
    """The request reaches the provider, then the process "dies" before the answer is kept."""

    async def originate(self, call: OutboundCall) -> str:
        await super().originate(call)
        raise asyncio.CancelledError  # nothing after this line runs in the dialer


async def _prepare(tmp_path: Path, clock: FakeClock) -> None:
    async with harness(tmp_path, clock=clock) as h:
        await h.customers.upsert_customers([customer("a")])
        await admin.create(h.ctx, "c", campaign_id="c1", policy=fast_policy().to_json())
        await admin.import_targets(h.ctx, "c1", ["a"])
        await admin.start(h.ctx, "c1")


async def test_crash_between_the_two_writes_is_never_redialled(tmp_path: Path) -> None:
    clock = FakeClock()
    await _prepare(tmp_path, clock)
    dying = DiesAfterRequest()
    async with harness(tmp_path, dying, clock=clock) as h:
        await h.service.tick()
        await h.service.dialer.drain()
        (attempt,) = await h.store.list_attempts("c1")
        assert attempt.state is AttemptState.DIALING and attempt.call_sid is None
    assert len(dying.placed) == 1
    sid = dying.placed[0]["sid"]

    after = FakeControl()
    async with harness(tmp_path, after, clock=clock) as h:  # the restarted process
        await h.service.start()
        await h.service.close()
        (attempt,) = await h.store.list_attempts("c1")
        target = await h.store.get_target("c1", "a")
        assert attempt.state is AttemptState.UNKNOWN
        assert target is not None and target.state is TargetState.UNKNOWN
        for _ in range(3):
            clock.advance(hours=1)
            await h.service.tick()
            await h.service.dialer.drain()
        assert after.placed == [], "an interrupted dial is never repeated blindly"
        # The provider's late status callback names the attempt: it is resolved, not lost.
        await h.service.on_call_status(sid, CallProgress.ANSWERED, AnsweredBy.HUMAN, attempt.id)
        await h.service.on_call_finished(sid, "completed")
        await h.service.on_call_status(sid, CallProgress.COMPLETED, None, attempt.id)
        resolved = await h.store.get_attempt(attempt.id)
        target = await h.store.get_target("c1", "a")
        assert resolved is not None and (resolved.state, resolved.call_sid) == (
            AttemptState.COMPLETED, sid)
        assert target is not None and (target.state, target.last_outcome) == (
            TargetState.COMPLETED, "completed")


CHILD = textwrap.dedent("""
    import asyncio, sys
    from datetime import datetime
    import aiohttp
    from ivr.campaigns.context import CampaignContext, DialerSettings
    from ivr.campaigns.service import CampaignService
    from ivr.store.campaigns import SqliteCampaignStore
    from ivr.store.customers import SqliteCustomerStore
    from ivr.telephony.twilio.control import TwilioControl
    from ivr.telephony.twilio.rest import TwilioCredentials, TwilioRestClient

    async def main(db, base, account, token, now):
        async with aiohttp.ClientSession() as http:
            store = await SqliteCampaignStore.open(db)
            customers = await SqliteCustomerStore.open(db)
            rest = TwilioRestClient(http, TwilioCredentials.from_auth_token(account, token),
                                    base_url=base, timeout_s=120)
            control = TwilioControl(rest, "https://ivr.example.com")
            ctx = CampaignContext(store=store, customers=customers, control=control,
                                  settings=DialerSettings("+8610"),
                                  clock=lambda: datetime.fromisoformat(now))
            service = CampaignService(ctx)
            await service.tick()
            print("dialling", flush=True)
            await service.dialer.drain()
            print("finished", flush=True)

    asyncio.run(main(*sys.argv[1:]))
""")


async def test_killed_mid_dial_subprocess_is_reconciled_not_redialled(tmp_path: Path) -> None:
    clock = FakeClock()
    await _prepare(tmp_path, clock)
    db = tmp_path / "ivr.sqlite3"
    async with FakeTwilioRest() as fake:
        fake.delay_next(60)  # the provider takes its time: the dialer is killed meanwhile
        creds = fake.credentials()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, str(db), fake.base_url, creds.account_sid,
            creds.password, clock.now.isoformat(), env=env, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not any(r.path.endswith("/Calls.json") for r in fake.requests):
            assert time.monotonic() < deadline, "the child never dialled"
            assert proc.returncode is None
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        assert proc.returncode == -signal.SIGKILL

        async with aiohttp.ClientSession() as http:
            control = TwilioControl(TwilioRestClient(http, creds, base_url=fake.base_url),
                                    "https://ivr.example.com")
            async with harness(tmp_path, control, clock=clock) as h:
                (attempt,) = await h.store.list_attempts("c1")
                assert attempt.state is AttemptState.DIALING, "written before the request"
                await h.service.start()  # reconciles
                await h.service.close()
                for _ in range(3):
                    clock.advance(hours=1)
                    await h.service.tick()
                    await h.service.dialer.drain()
                (attempt,) = await h.store.list_attempts("c1")
                assert attempt.state is AttemptState.UNKNOWN
                status = admin.group_counts(await h.store.state_counts("c1"))
                assert status["unknown"] == 1
        dials = [r for r in fake.requests if r.path.endswith("/Calls.json")]
        assert len(dials) == 1, "the customer was dialled exactly once"
