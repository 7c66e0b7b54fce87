"""Promises the caller can ask for at any time: stop calling me (opt-out), and the answers of
a third party who picked up ("他不在", "she's not home").

The IVR does the recording (POST /internal/calls/{sid}/opt-out and .../callback, actions/api.py);
when it cannot, the flow's system_error hands the caller to an agent rather than promising
something that was not written down.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import EventType

from actions import api
from actions.flow import Flow, FlowAction, call_sid


class ActionOptOut(FlowAction):
    """"别再给我打电话了" / "stop calling me": confirm, record the withdrawal (the IVR puts the
    customer on the do-not-call list of every campaign), end politely."""

    action_name = "action_opt_out"

    async def step(self, flow: Flow, domain: dict[str, Any]) -> list[EventType]:
        await api.opt_out(call_sid(flow.t))
        flow.say("utter_opt_out_confirmed")
        return flow.events


class ActionNotAvailable(FlowAction):
    """Someone else answered and the customer is not there: disclose nothing, ask when to
    call again (action_record_callback then ends the call as `not_available`)."""

    action_name = "action_not_available"

    async def step(self, flow: Flow, domain: dict[str, Any]) -> list[EventType]:
        flow.set("third_party", True)
        flow.say("utter_not_available")
        flow.set("awaiting", "callback_time")
        return flow.events


class ActionAgentUnavailable(FlowAction):
    """The IVR's /agent_unavailable (outside agent hours, nobody logged in, or the wait was
    too long; the caller has just been told): ask when an agent should call back."""

    action_name = "action_agent_unavailable"

    async def step(self, flow: Flow, domain: dict[str, Any]) -> list[EventType]:
        flow.set("agent_callback", True)
        flow.say("utter_ask_agent_callback_time")
        flow.set("awaiting", "callback_time")
        return flow.events
