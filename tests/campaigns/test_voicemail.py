"""Voicemail policy per campaign: hang up (default) or leave the campaign's short message in
the customer's language; the attempt is recorded either way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.campaigns import admin
from ivr.campaigns.model import AttemptState, TargetState
from ivr.campaigns.policy import Policy, PolicyError
from ivr.core.types import Language
from ivr.telephony.provider import AnsweredBy, CallProgress
from tests.campaigns.helpers import FakeControl, Harness, customer, fast_policy, harness

ZH = "这里是数字钱包客服中心,给您回访钱包申请。方便时请回电 9 5 0 0 0。"
EN = "This is Digital Wallet customer care about your application. Please call us back on 95000."


@dataclass
class MessageControl(FakeControl):
    """A provider that can leave a message (``VoicemailControl``)."""

    messages: list[tuple[str, str, Language]] = field(default_factory=list)

    async def leave_message(self, call_id: str, text: str, language: Language) -> None:
        self.messages.append((call_id, text, language))


async def _machine_answers(h: Harness, ids: list[str], **policy: object) -> list[str]:
    await h.customers.upsert_customers(
        [customer("a"), customer("b", language=Language.EN)])
    await admin.create(h.ctx, "vm", campaign_id="c1", policy=fast_policy(**policy).to_json())
    await admin.import_targets(h.ctx, "c1", ids)
    await admin.start(h.ctx, "c1")
    await h.service.tick()
    await h.service.dialer.drain()
    sids = []
    for attempt in await h.store.list_attempts("c1"):
        sid = attempt.call_sid or ""
        await h.service.on_call_status(sid, CallProgress.ANSWERED, None, attempt.id)
        await h.service.on_call_status(sid, None, AnsweredBy.MACHINE, attempt.id)
        sids.append(sid)
    return sids


async def test_the_message_is_left_in_the_customer_language(tmp_path: Path) -> None:
    control = MessageControl()
    async with harness(tmp_path, control) as h:
        sids = await _machine_answers(h, ["a", "b"], voicemail="message",
                                      voicemail_message=ZH, voicemail_message_en=EN)
        by_customer = {a.customer_id: a for a in await h.store.list_attempts("c1")}
        assert sorted(control.messages) == sorted(
            [(by_customer["a"].call_sid, ZH, Language.ZH),
             (by_customer["b"].call_sid, EN, Language.EN)])
        assert control.hangups == [] and len(sids) == 2
        for attempt in by_customer.values():
            assert (attempt.state, attempt.voicemail_action) == (AttemptState.VOICEMAIL,
                                                                 "message")
        target = await h.store.get_target("c1", "a")
        assert target is not None and target.state is TargetState.RETRYING


async def test_default_policy_hangs_up_even_where_messages_are_possible(tmp_path: Path) -> None:
    control = MessageControl()
    async with harness(tmp_path, control) as h:
        sids = await _machine_answers(h, ["a"])
        assert control.hangups == sids and control.messages == []
        attempt = (await h.store.list_attempts("c1"))[0]
        assert attempt.voicemail_action == "hangup"


async def test_a_provider_without_messages_hangs_up(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:  # FakeControl: no leave_message
        sids = await _machine_answers(h, ["a"], voicemail="message",
                                      voicemail_message=ZH, voicemail_message_en=EN)
        assert isinstance(h.control, FakeControl) and h.control.hangups == sids
        assert (await h.store.list_attempts("c1"))[0].voicemail_action == "hangup"


@pytest.mark.parametrize("raw", [
    {"voicemail": "sing"},
    {"voicemail": "message"},  # no text
    {"voicemail": "message", "voicemail_message": ZH, "voicemail_message_en": "Hi {name}"},
])
def test_bad_voicemail_policies_are_refused(raw: dict[str, object]) -> None:
    with pytest.raises(PolicyError):
        Policy().updated(raw)
