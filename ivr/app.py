"""The one place that wires concrete classes into the aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import aiohttp
from aiohttp import web

from ivr.agents.accounts import AgentDirectory
from ivr.agents.availability import Availability, parse_hours
from ivr.agents.handoff import QueueHandoff
from ivr.agents.login import LoginGuard
from ivr.agents.queue import AgentQueue
from ivr.agents.throttle import Backoff
from ivr.asr.decoding_view import DecodingOptions
from ivr.asr.vosk_engine import VoskEngine
from ivr.audio.endpoint import EndpointConfig
from ivr.call.admission import Admitter
from ivr.call.clock import LoopClock
from ivr.call.factory import DriverFactory
from ivr.call.hub import CallHub
from ivr.call.id_check import IdentityVerifier
from ivr.call.limits import MediaLimits
from ivr.call.parts import CallParts
from ivr.call.policy import AnswerKind, AnswerTiming, CallPolicy
from ivr.call.prepare import PreparedCall
from ivr.call.prompts import PromptBook, SystemPrompt, load_prompts
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
from ivr.customers.identity import IdPolicy
from ivr.customers.idhash import IdHasher
from ivr.customers.service import CustomerService
from ivr.dialogue.bridge import RasaBridge
from ivr.loop_watch import LoopWatch
from ivr.metrics import Metrics
from ivr.providers import build_providers, echo_factory
from ivr.rasa_children import ensure_rasa_tokens, rasa_children
from ivr.readiness import Readiness
from ivr.server_key import derive, server_key
from ivr.sim.wavio import read_wav_8k
from ivr.store.factory import StoreTarget, open_stores
from ivr.supervisor import Supervisor
from ivr.telephony.provider import ProviderAdapter
from ivr.telephony.twilio.adapter import TwilioAdapter
from ivr.telephony.twilio.control import TwilioControl
from ivr.telephony.twilio.rest import TransferOptions, TwilioCredentials, TwilioRestClient
from ivr.telephony.twilio.signature import TwilioSignatureValidator
from ivr.tts.factory import build_tts
from ivr.tts.service import TtsService
from ivr.web import (
    api,
    campaigns_api,
    customers_api,
    dashboard,
    guard,
    internal,
    internal_promises,
    telephony_routes,
)
from ivr.web.access import ACCESS
from ivr.web.internal import ensure_internal_token
from ivr.web.keys import SERVICES
from ivr.web.services import Services
from ivr.web.telephony_routes import SocketLimits

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


def socket_limits(config: Config) -> SocketLimits:
    return SocketLimits(config.server.max_media_sockets, config.call.max_message_bytes,
                        media_limits(config))


def media_limits(config: Config) -> MediaLimits:
    call = config.call
    return MediaLimits(rate_slack=call.media_rate_slack, burst_s=call.media_burst_s,
                       max_frame_ms=call.max_frame_ms, messages_per_s=call.max_messages_per_s,
                       max_wire_errors=call.max_wire_errors)


def web_app(config: Config, adapters: Sequence[ProviderAdapter]) -> web.Application:
    """Every route behind the guard middleware; ``app[SERVICES]`` is set by the caller."""
    table = telephony_routes.access_table(adapters)
    app = web.Application(client_max_size=1 << 20, middlewares=guard.middlewares(config, table))
    app[ACCESS] = table
    telephony_routes.setup(app, adapters, socket_limits(config))
    for routes in (api, internal, internal_promises, customers_api, dashboard, campaigns_api):
        routes.setup(app)
    return app


def build_app(config: Config) -> web.Application:
    config = ensure_internal_token(config)
    if config.rasa.managed or not config.rasa.auth_token:
        config = ensure_rasa_tokens(config)
    twilio = _twilio_adapter(config)
    app = web_app(config, [twilio])
    app.cleanup_ctx.append(_services_ctx(config, twilio))
    app.on_shutdown.append(_end_calls)
    return app


def call_policy(config: Config) -> CallPolicy:
    a = config.answers
    answers = {kind: AnswerTiming(getattr(a, f"{kind.value}_end_silence_ms"),
                                  getattr(a, f"{kind.value}_complete_silence_ms"))
               for kind in AnswerKind}
    return CallPolicy(
        barge_in_ms=config.call.barge_in_ms, barge_in_max_ms=config.call.barge_in_max_ms,
        no_input_s=config.asr.no_input_ms / 1000, no_input_limit=config.call.no_input_limit,
        max_call_s=config.call.max_call_s, callee_silence_s=config.call.callee_silence_ms / 1000,
        digits_length=a.digits_length, inter_digit_s=a.inter_digit_ms / 1000,
        early_opening=config.call.early_opening, answers=answers)


def _twilio_adapter(config: Config) -> TwilioAdapter:
    validator = None
    if not config.twilio.insecure_skip_signature:
        validator = TwilioSignatureValidator(config.twilio.auth_token, config.server.public_url,
                                             config.worker_url)
    return TwilioAdapter(public_url=config.server.public_url, validator=validator)


def _twilio_control(config: Config, http: aiohttp.ClientSession) -> TwilioControl | None:
    twilio = config.twilio
    if not (twilio.account_sid and twilio.auth_token):
        log.warning("twilio.account_sid not set: agent transfers and outbound calls are off")
        return None
    rest = TwilioRestClient(
        http,
        TwilioCredentials.from_auth_token(twilio.account_sid, twilio.auth_token),
        base_url=twilio.api_base_url,
        timeout_s=config.agents.transfer_timeout_s,
        transfer_options=TransferOptions(caller_id=twilio.caller_id or None,
                                         timeout_s=config.agents.dial_timeout_s),
    )
    return TwilioControl(rest, config.worker_url)  # calls it places come back to this worker


async def _refusal_audio(tts: TtsService, prompts: PromptBook) -> dict[tuple[str, Language], Pcm]:
    audio = {}
    for lang in Language:
        for prompt in (SystemPrompt.UNAVAILABLE, SystemPrompt.TECHNICAL_ERROR):
            audio[(prompt.value, lang)] = await tts.synthesize(prompts.text(prompt, lang), lang)
    return audio


def _services_ctx(config: Config, twilio: TwilioAdapter
                  ) -> Callable[[web.Application], AsyncIterator[None]]:
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

            bridge = RasaBridge(http, config.rasa.server_urls(), config.rasa.timeout_s,
                                config.rasa.auth_token)
            supervisor = Supervisor(rasa_children(config, http)) if config.rasa.managed else None
            readiness = Readiness(supervisor, bridge)
            loop = asyncio.get_running_loop()
            models = {lang: config.model_dir(lang) for lang in Language}
            asr_task = loop.run_in_executor(executor, functools.partial(
                VoskEngine, models, DecodingOptions(config.asr.frames_per_chunk),
                config.server.data_dir / "model-views"))
            tts = build_tts(config)
            await tts.start()
            stack.push_async_callback(tts.close)
            prompts = load_prompts()
            prompt_audio = await _refusal_audio(tts, prompts)
            readiness.tts_ready = True
            engine = await asr_task
            readiness.asr_loaded = True

            customers = CustomerService(customer_store)
            key = server_key(config)
            hasher = IdHasher(key)
            await customers.protect_ids(hasher)
            queue = AgentQueue(agent_store, worker=config.worker_id)
            await recover_own_leftovers(config, stores, queue, customers)
            twilio_control = _twilio_control(config, http)
            twilio.use_control(twilio_control)
            providers = await build_providers(config, twilio, twilio_control)
            control = providers.control
            handoff = QueueHandoff(
                queue, control, store, customers, prompts,
                read_wav_8k(HOLD_MUSIC), max_wait_s=config.agents.max_wait_s,
                transfer_timeout_s=config.agents.transfer_timeout_s,
                availability=Availability(agent_store.list_agents, parse_hours(
                    config.agents.hours, config.agents.hours_days,
                    config.agents.hours_timezone)),
            )
            metrics = Metrics()
            watch = LoopWatch()
            watch.start()
            stack.push_async_callback(watch.stop)
            metrics.process_figures = watch.gauges
            identity = config.identity
            verifier = IdentityVerifier(customer_store, hasher, IdPolicy(
                identity.max_failures, identity.cooldown_s, identity.min_confidence),
                calls=store, metrics=metrics)
            parts = CallParts(store=store, verifier=verifier, handoff=handoff,
                              prompts=prompts, metrics=metrics, clock=LoopClock())
            factory = DriverFactory(
                parts=parts, engine=engine, executor=executor, dialogue=bridge, speech=tts,
                policy=call_policy(config),
                endpoint=EndpointConfig(min_speech_ms=config.asr.min_speech_ms,
                                        end_silence_ms=config.asr.end_silence_ms,
                                        no_input_ms=config.asr.no_input_ms,
                                        max_utterance_ms=config.asr.max_utterance_ms),
                vad_aggressiveness=config.asr.vad_aggressiveness,
                vad_hangover=config.asr.vad_hangover,
                echo=echo_factory(config),
            )
            campaigns = open_campaign_service(  # the dialer starts once `hub` exists
                config, stores.campaigns, store, customer_store, control,
                config.twilio.caller_id,
                capacity=dialer_capacity(config, stores, lambda: len(hub.active)))
            stack.push_async_callback(campaigns.close)
            hub = CallHub(
                admitter=Admitter(store, readiness, customers, config.call.default_language,
                                  config.server.max_calls, config.server.public_url,
                                  worker=config.worker_id),
                store=store, metrics=metrics, new_driver=factory, campaigns=campaigns,
                prepare=(lambda call: PreparedCall(call, bridge, tts))
                if config.call.prepare_greeting else None,
                limits=media_limits(config),
                start_timeout_s=config.server.stream_start_timeout_s,
                ticket_ttl_s=config.server.stream_token_ttl_s,
            )
            directory = AgentDirectory(agent_store)
            logins = LoginGuard(directory, agent_store, derive(key, "dashboard-browser"),
                                Backoff(config.agents.login_backoff_base_s,
                                        config.agents.login_backoff_max_s))
            services = Services(
                config=config, store=store, readiness=readiness, prompts=prompts,
                prompt_audio=prompt_audio, calls=hub, metrics=metrics, customers=customers,
                handoff=handoff, queue=queue, agents=directory, logins=logins,
                campaigns=campaigns,
            )
            app[SERVICES] = services
            node = await start_node(config, stores=stores, queue=queue, handoff=handoff,
                                    customers=customers, campaigns=campaigns,
                                    active=lambda: len(hub.active), key=key)
            if node is not None:
                hub.shared, hub.worker = node.admissions, config.worker_id
                stack.push_async_callback(node.close)
            stack.push_async_callback(stop_task, start_conversation_expiry(config))
            if supervisor is not None:
                await supervisor.start(wait=False)
                stack.push_async_callback(supervisor.stop)
            else:
                poll = asyncio.create_task(readiness.poll_rasa())
                stack.callback(poll.cancel)
            for adapter in providers.adapters:
                await adapter.start(hub)
                stack.push_async_callback(adapter.close)
            if dialer_enabled(config, control):
                await campaigns.start()
            stack.push_async_callback(hub.hang_up_all)
            yield

    return ctx


async def _end_calls(app: web.Application) -> None:
    """First step of a graceful stop (before sockets are closed): end every live call."""
    services = app.get(SERVICES)
    if services is not None and isinstance(services.calls, CallHub):
        await services.calls.hang_up_all()
