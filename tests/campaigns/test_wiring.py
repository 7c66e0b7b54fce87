"""The campaign service as ``ivr.app`` wires it: the dialer loop dials through the Twilio
adapter's control (REST API)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from ivr.app import _twilio_control
from ivr.campaigns import admin
from ivr.campaigns.wiring import (
    close_campaign_service,
    dialer_enabled,
    open_campaign_service,
)
from ivr.config import Config, ServerConfig, StoreConfig, TwilioConfig
from ivr.store.customers import SqliteCustomerStore
from ivr.store.sqlite import SqliteCallStore
from tests.campaigns.helpers import customer, fast_policy
from tests.telephony.fake_twilio_rest import DEFAULT_AUTH_TOKEN, FakeTwilioRest


async def test_service_from_config_dials_in_its_loop(tmp_path: Path) -> None:
    db = tmp_path / "ivr.sqlite3"
    async with (FakeTwilioRest() as fake, aiohttp.ClientSession() as http,
                await SqliteCallStore.open(db) as calls,
                await SqliteCustomerStore.open(db) as customers):
        config = Config(
            server=ServerConfig(public_url="https://ivr.example.com"),
            twilio=TwilioConfig(account_sid=fake.account_sid, auth_token=DEFAULT_AUTH_TOKEN,
                                api_base_url=fake.base_url, caller_id="+8610900000000"),
            store=StoreConfig(sqlite_path=db))
        control = _twilio_control(config, http)
        service = await open_campaign_service(config, calls, customers, control,
                                              config.twilio.caller_id)
        assert dialer_enabled(config, control) and not dialer_enabled(config, None)
        await customers.upsert_customers([customer("a")])
        await admin.create(service.ctx, "c", campaign_id="c1", policy=fast_policy().to_json())
        await admin.import_targets(service.ctx, "c1", ["a"])
        await admin.start(service.ctx, "c1")
        await service.start()
        try:
            for _ in range(100):
                if any(r.path.endswith("/Calls.json") for r in fake.requests):
                    break
                await asyncio.sleep(0.05)
        finally:
            await close_campaign_service(service)
        (request,) = [r for r in fake.requests if r.path.endswith("/Calls.json")]
        assert request.form["From"] == "+8610900000000"
        assert request.form["Url"].startswith("https://ivr.example.com/twilio/voice?")
        assert request.form["AsyncAmd"] == "true"
