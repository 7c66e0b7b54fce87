"""The one place that wires concrete classes into the aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

import aiohttp
from aiohttp import web

from ivr.agents.accounts import AgentDirectory
from ivr.agents.handoff import QueueHandoff
from ivr.agents.queue import AgentQueue
from ivr.asr.vosk_engine import VoskEngine
from ivr.audio.endpoint import EndpointConfig
from ivr.call.factory import SessionFactory
from ivr.call.prompts import PromptBook, SystemPrompt, load_prompts
from ivr.call.session import SessionPolicy
from ivr.campaigns.wiring import dialer_enabled, open_campaign_service
from ivr.cluster.wiring import (
    dialer_capacity,
    recover_own_leftovers,
    start_conversation_expiry,
    start_node,
    stop_task,
)
from ivr.config import ROOT, Config
from ivr.core.audio import Pcm
from ivr.core.pii import PiiFilter
from ivr.core.types import Language
from ivr.customers.service import CustomerService
from ivr.dialogue.bridge import RasaBridge
from ivr.metrics import Metrics
from ivr.rasa_children import rasa_children
from ivr.readiness import Readiness
from ivr.sim.wavio import read_wav_8k
from ivr.store.factory import StoreTarget, open_stores
from ivr.supervisor import Supervisor
from ivr.telephony.base import CallControl
from ivr.telephony.twilio_media import TwilioMediaCodec
from ivr.telephony.twilio_rest import TransferOptions, TwilioCredentials, TwilioRestClient
from ivr.telephony.twilio_signature import TwilioSignatureValidator
from ivr.tts.factory import build_tts
from ivr.tts.service import TtsService
from ivr.web import (
    api,
    campaigns_api,
    customers_api,
    dashboard,
    internal,
    media_socket,
    twilio_routes,
)
from ivr.web.internal import ensure_internal_token
from ivr.web.keys import SERVICES
from ivr.web.services import Services

log = logging.getLogger(__name__)

HOLD_MUSIC = ROOT / "audio" / "hold" / "hold-music.wav"


def configure_logging(config: Config) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PiiFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(config.server.log_level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def build_app(config: Config) -> web.Application:
    config = ensure_internal_token(config)
    app = web.Application(client_max_size=1 << 20)
    app.cleanup_ctx.append(_services_ctx(config))
    app.on_shutdown.append(_end_calls)
    for routes in (twilio_routes, media_socket, api, internal, customers_api, dashboard,
                   campaigns_api):
        routes.setup(app)
    return app


def _call_control(config: Config, http: aiohttp.ClientSession) -> CallControl | None:
    twilio = config.twilio
    if not (twilio.account_sid and twilio.auth_token):
        log.warning("twilio.account_sid not set: agent transfers and outbound calls are off")
        return None
    return TwilioRestClient(
        http,
        TwilioCredentials.from_auth_token(twilio.account_sid, twilio.auth_token),
        base_url=twilio.api_base_url,
        timeout_s=config.agents.transfer_timeout_s,
        transfer_options=TransferOptions(caller_id=twilio.caller_id or None,
                                         timeout_s=config.agents.dial_timeout_s),
    )


async def _refusal_audio(tts: TtsService, prompts: PromptBook) -> dict[tuple[str, Language], Pcm]:
    audio = {}
    for lang in Language:
        for prompt in (SystemPrompt.UNAVAILABLE, SystemPrompt.TECHNICAL_ERROR):
            audio[(prompt.value, lang)] = await tts.synthesize(prompts.text(prompt, lang), lang)
    return audio


def _services_ctx(config: Config) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if config.twilio.insecure_skip_signature:
            log.warning("twilio.insecure_skip_signature is ON: provider signatures are NOT "
                        "checked. Never use this setting in production.")
        async with contextlib.AsyncExitStack() as stack:
            stores = await open_stores(StoreTarget.from_settings(
                config.store.url, config.store.sqlite_path, config.store.pool_size))
            stack.push_async_callback(stores.close)
            log.info("store: %s", stores.target.describe())
            store, customer_store, agent_store = stores.calls, stores.customers, stores.agents
            http = aiohttp.ClientSession()
            stack.push_async_callback(http.close)
            executor = ThreadPoolExecutor(config.asr.threads, thread_name_prefix="asr")
            stack.callback(executor.shutdown, wait=False, cancel_futures=True)

            bridge = RasaBridge(http, config.rasa.url, config.rasa.timeout_s)
            supervisor = Supervisor(rasa_children(config, http)) if config.rasa.managed else None
            readiness = Readiness(supervisor, bridge)
            loop = asyncio.get_running_loop()
            models = {lang: config.model_dir(lang) for lang in Language}
            asr_task = loop.run_in_executor(executor, VoskEngine, models)
            tts = build_tts(config)
            await tts.start()
            stack.push_async_callback(tts.close)
            prompts = load_prompts()
            prompt_audio = await _refusal_audio(tts, prompts)
            readiness.tts_ready = True
            engine = await asr_task
            readiness.asr_loaded = True

            customers = CustomerService(customer_store)
            queue = AgentQueue(agent_store, worker=config.worker_id)
            await recover_own_leftovers(config, stores, queue, customers)
            handoff = QueueHandoff(
                queue, _call_control(config, http), store, customers, prompts,
                read_wav_8k(HOLD_MUSIC), max_wait_s=config.agents.max_wait_s,
                transfer_timeout_s=config.agents.transfer_timeout_s,
            )
            metrics = Metrics()
            factory = SessionFactory(
                engine=engine, executor=executor, dialogue=bridge, speech=tts, store=store,
                prompts=prompts, handoff=handoff,
                policy=SessionPolicy(barge_in_ms=config.call.barge_in_ms,
                                     no_input_limit=config.call.no_input_limit,
                                     max_call_s=config.call.max_call_s),
                endpoint=EndpointConfig(min_speech_ms=config.asr.min_speech_ms,
                                        end_silence_ms=config.asr.end_silence_ms,
                                        no_input_ms=config.asr.no_input_ms,
                                        max_utterance_ms=config.asr.max_utterance_ms),
                vad_aggressiveness=config.asr.vad_aggressiveness, metrics=metrics,
            )
            campaigns = open_campaign_service(  # the dialer starts once `services` exists
                config, stores.campaigns, store, customer_store, http,
                capacity=dialer_capacity(config, stores, lambda: len(services.active)))
            stack.push_async_callback(campaigns.close)
            validator = None
            if not config.twilio.insecure_skip_signature:
                validator = TwilioSignatureValidator(config.twilio.auth_token,
                                                     config.server.public_url,
                                                     config.worker_url)
            services = Services(
                config=config, store=store, codec=TwilioMediaCodec(), validator=validator,
                readiness=readiness, prompts=prompts, prompt_audio=prompt_audio,
                new_session=factory, metrics=metrics, customers=customers,
                handoff=handoff, queue=queue, agents=AgentDirectory(agent_store),
                campaigns=campaigns,
            )
            app[SERVICES] = services
            node = await start_node(config, stores=stores, queue=queue, handoff=handoff,
                                    customers=customers, campaigns=campaigns,
                                    active=lambda: len(services.active))
            if node is not None:
                stack.push_async_callback(node.close)
            stack.push_async_callback(stop_task, start_conversation_expiry(config))
            if supervisor is not None:
                await supervisor.start(wait=False)
                stack.push_async_callback(supervisor.stop)
            else:
                poll = asyncio.create_task(readiness.poll_rasa())
                stack.callback(poll.cancel)
            if dialer_enabled(config):
                await campaigns.start()
            stack.push_async_callback(_hang_up_all, services)
            yield

    return ctx


async def _end_calls(app: web.Application) -> None:
    """First step of a graceful stop (before sockets are closed): end every live call."""
    services = app.get(SERVICES)
    if services is not None:
        await _hang_up_all(services)


async def _hang_up_all(services: Services) -> None:
    sessions = list(services.active.values())
    for session in sessions:
        session.shutdown()
    for session in sessions:
        await session.wait_ended()
