"""A call admitted by worker A's voice webhook whose media stream lands on worker B: B binds
it (once in the whole cluster) from the admission shared in Redis, and the call's record then
says B holds it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr.call.admission import Admitter
from ivr.call.hub import TOKEN_PARAM, CallHub
from ivr.cluster.admissions import RedisAdmissions
from ivr.cluster.bus import Bus
from ivr.core.types import Language
from ivr.metrics import Metrics
from ivr.store.factory import Stores
from ivr.telephony.provider import CallDirection, CallIdentity, MediaStart
from tests.call.test_hub import Campaigns, Customers, NoDrivers, Ready

SID = "CA" + "9" * 32


def _hub(stores: Stores, bus: Bus, worker: str) -> CallHub:
    admitter = Admitter(stores.calls, Ready(), Customers(), Language.ZH, 5,
                        "https://ivr.example.com", worker=worker)
    return CallHub(admitter, stores.calls, Metrics(), NoDrivers(),  # type: ignore[arg-type]
                   Campaigns(), shared=RedisAdmissions(bus), worker=worker)


async def test_a_stream_binds_on_any_worker_once(bus_factory: Callable[[], Bus],
                                                 shared: Any) -> None:
    stores_a, stores_b = await shared(), await shared()
    a, b = _hub(stores_a, bus_factory(), "A"), _hub(stores_b, bus_factory(), "B")
    admission = await a.call_arrived(CallIdentity(
        "test", SID, CallDirection.INBOUND, "+14155550101", "+8610000000",
        params={"customer_title": "Mr. Smith"}))
    assert admission.accepted
    record = await stores_b.calls.get_call(SID)
    assert record is not None and record.worker == "A"  # the webhook was A's
    params = dict(admission.stream_params)
    assert await b._bind_shared(MediaStart(SID, params={TOKEN_PARAM: "forged"})) is None
    bound = await b._bind_shared(MediaStart(SID, params=params))
    assert bound is not None and bound.call.language is Language.EN
    assert bound.call.customer_id == "C-en" and bound.call.metadata["customer_title"] == \
        "Mr. Smith"
    record = await stores_a.calls.get_call(SID)
    assert record is not None and record.worker == "B"  # its media is on B
    # the token is spent cluster-wide: A cannot bind the same stream again
    assert await a._bind_shared(MediaStart(SID, params=params)) is None
    assert await b._bind_shared(MediaStart(SID, params=params)) is None


async def test_a_stream_on_the_admitting_worker_keeps_its_preparation(
        bus_factory: Callable[[], Bus], shared: Any) -> None:
    a = _hub(await shared(), bus_factory(), "A")
    admission = await a.call_arrived(CallIdentity("test", SID))
    bound = await a._bind_shared(MediaStart(SID, params=dict(admission.stream_params)))
    assert bound is not None and bound.token == admission.stream_params[TOKEN_PARAM]
    assert a._admitted == {}
