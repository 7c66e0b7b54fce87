"""Building the campaign service from the configuration (used by ``ivr.app``).

``ivr.app`` opens it in its cleanup context::

    campaigns = open_campaign_service(config, stores.campaigns, calls, customers, control,
                                      caller_id, capacity=free_slots)
    if dialer_enabled(config, control):
        await campaigns.start()        # reconciles interrupted dials, starts the dialer
    ...
    await campaigns.close()            # the stores are closed by their owner

Without a provider that can dial (or with ``campaigns.enabled = false``) the service still
answers the API and the CLI, but nothing dials.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ivr.campaigns.context import CampaignContext, CampaignControl, DialerSettings, NoDialing
from ivr.campaigns.mailer import SmtpMailer
from ivr.campaigns.service import CampaignService
from ivr.campaigns.settings import CampaignsConfig
from ivr.config import Config
from ivr.store.base import CallStore
from ivr.store.customers import CustomerStore
from ivr.store.protocols import CampaignStore


def campaigns_config(config: Config) -> CampaignsConfig:
    """``config.campaigns`` once ``ivr.config`` has the section; the defaults until then."""
    section = getattr(config, "campaigns", None)
    return section if isinstance(section, CampaignsConfig) else CampaignsConfig()


def dialer_enabled(config: Config, control: CampaignControl | None) -> bool:
    return campaigns_config(config).enabled and control is not None


def mailer_for(settings: CampaignsConfig) -> SmtpMailer | None:
    if not settings.smtp_host:
        return None
    return SmtpMailer(settings.smtp_host, settings.smtp_port, sender=settings.smtp_from,
                      user=settings.smtp_user, password=settings.smtp_password,
                      starttls=settings.smtp_starttls, timeout_s=settings.smtp_timeout_s)


def open_campaign_service(config: Config, store: CampaignStore, calls: CallStore,
                          customers: CustomerStore, control: CampaignControl | None,
                          caller_id: str, *,
                          capacity: Callable[[], Awaitable[int]] | None = None
                          ) -> CampaignService:
    """The service over the worker's stores, dialling through ``control`` (the outbound
    provider's adapter, whose calls come back to this worker) from ``caller_id``;
    ``capacity`` gives this worker's free call slots."""
    settings = campaigns_config(config)
    ctx = CampaignContext(
        store=store, customers=customers, control=control or NoDialing(), calls=calls,
        mailer=mailer_for(settings), defaults=settings.default_policy(),
        settings=DialerSettings(caller_id=settings.caller_id or caller_id,
                                poll_s=settings.poll_s, stale_after_s=settings.stale_after_s,
                                line_grace_s=settings.line_grace_s,
                                worker=config.worker_id, lease_s=config.cluster.lease_s),
        capacity=capacity)
    return CampaignService(ctx)
