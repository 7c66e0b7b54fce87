"""Server-wide campaign settings: the ``[campaigns]`` config section (``ivr.config``).

Plain str/int/float/bool fields so ``ivr.config`` reads them from TOML and ``IVR_CAMPAIGNS_*``
variables like every other section. Per-campaign defaults are applied by
:meth:`CampaignsConfig.default_policy`; each campaign may override them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.campaigns.policy import Policy, parse_dates, parse_days, parse_windows


@dataclass(frozen=True)
class CampaignsConfig:
    # Run the dialer inside ``ivr serve`` (it only dials campaigns that are started).
    enabled: bool = True
    poll_s: float = 1.0
    # Caller ID for outbound calls and SMS; empty: the dialling provider's own caller id.
    caller_id: str = ""
    windows: str = "12:00-13:30,18:30-21:00"
    weekend_windows: str = "10:00-12:00,14:00-20:00"
    weekend_days: str = "sat,sun"
    holidays: str = ""  # comma-separated ISO dates; they use holiday_windows
    holiday_windows: str = ""  # empty: no calls on holidays
    workdays: str = ""  # make-up working days on a weekend
    max_attempts: int = 3
    retry_backoff_s: float = 3600.0
    max_concurrent: int = 5
    calls_per_second: float = 1.0
    max_calls_per_period: int = 2
    period_days: int = 30
    new_user_days: int = 30
    machine_detection: bool = True
    survey_url: str = "https://survey.example.com/s/{token}"
    # An attempt with no final provider status after this long is marked unknown.
    stale_after_s: float = 7200.0
    # A call the IVR has finished with (session over, answering machine hung up on) keeps its
    # campaign line until the provider's final status, or at most this long after it ended.
    line_grace_s: float = 120.0
    # SMTP for e-mail survey links; empty host: e-mail fallback unavailable (SMS is used).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = "noreply@wallet.example.com"
    smtp_timeout_s: float = 10.0

    def default_policy(self) -> Policy:
        return Policy(
            windows=parse_windows(self.windows, "campaigns.windows"),
            weekend_windows=parse_windows(self.weekend_windows, "campaigns.weekend_windows"),
            weekend_days=parse_days(self.weekend_days, "campaigns.weekend_days"),
            holidays=parse_dates(self.holidays, "campaigns.holidays"),
            holiday_windows=parse_windows(self.holiday_windows, "campaigns.holiday_windows"),
            workdays=parse_dates(self.workdays, "campaigns.workdays"),
            max_attempts=self.max_attempts, retry_backoff_s=self.retry_backoff_s,
            max_concurrent=self.max_concurrent, calls_per_second=self.calls_per_second,
            max_calls_per_period=self.max_calls_per_period, period_days=self.period_days,
            new_user_days=self.new_user_days, machine_detection=self.machine_detection,
            survey_url=self.survey_url,
        )
