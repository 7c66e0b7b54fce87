"""Is a human agent there for this caller right now? Agent hours (a local-time schedule from
``[agents]`` settings) and whether any agent who speaks the caller's language is logged in
(presence ``available`` or ``busy``; ``away`` agents are not there).

``refusal`` answers None (queue the caller) or the reason they are told at once instead:
``outside_agent_hours`` or ``no_agent_logged_in``. Time comes from an injected clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ivr.agents.model import Agent, Presence
from ivr.campaigns.policy import PolicyError, Window, parse_days, parse_windows
from ivr.core.errors import ConfigError
from ivr.core.types import Language

OUTSIDE_HOURS = "outside_agent_hours"
NOBODY = "no_agent_logged_in"
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class AgentHours:
    """When agents work: ``windows`` on ``days`` (0 = Monday) in ``timezone``; no windows:
    any time."""

    windows: tuple[Window, ...] = ()
    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    timezone: str = "Asia/Shanghai"

    def open_at(self, now: datetime) -> bool:
        if not self.windows:
            return True
        local = now.astimezone(ZoneInfo(self.timezone))
        minute = local.hour * 60 + local.minute
        return local.weekday() in self.days and any(a <= minute < b for a, b in self.windows)


def parse_hours(windows: str, days: str, timezone: str) -> AgentHours:
    """``agents.hours`` ("09:00-21:00", "" = any time), ``agents.hours_days`` ("mon,...")."""
    try:
        ZoneInfo(timezone)
        return AgentHours(parse_windows(windows, "agents.hours"),
                          parse_days(days, "agents.hours_days"), timezone)
    except PolicyError as err:
        raise ConfigError(str(err)) from None
    except (ValueError, KeyError) as err:
        raise ConfigError(f"agents.hours_timezone: unknown time zone {timezone!r}") from err


def utc_now() -> datetime:
    return datetime.now(UTC)


class Availability:
    def __init__(self, agents: Callable[[], Awaitable[Sequence[Agent]]], hours: AgentHours,
                 clock: Clock = utc_now) -> None:
        self._agents = agents
        self._hours = hours
        self._clock = clock

    async def refusal(self, language: Language | str) -> str | None:
        if not self._hours.open_at(self._clock()):
            return OUTSIDE_HOURS
        there = [a for a in await self._agents()
                 if a.presence is not Presence.AWAY and a.speaks(language)]
        return None if there else NOBODY
