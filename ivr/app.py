"""The one place that wires concrete classes into the aiohttp application."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from ivr.agents.handoff import CallbackHandoff
from ivr.asr.vosk_engine import VoskEngine
from ivr.audio.endpoint import EndpointConfig
from ivr.audio.vad import WebRtcVad
from ivr.call.asr_stream import CallerAsr
from ivr.call.listener import Listener, ListenerEvent
from ivr.call.playback import Playback
from ivr.call.prompts import SystemPrompt, load_prompts
from ivr.call.session import CallInfo, CallSession, SessionPolicy
from ivr.config import Config
from ivr.core.audio import TELEPHONY_RATE
from ivr.core.pii import PiiFilter
from ivr.core.types import Expectation, Language
from ivr.customers.service import CustomerService
from ivr.dialogue.bridge import RasaBridge
from ivr.metrics import Metrics
from ivr.rasa_children import rasa_children
from ivr.store.customers import SqliteCustomerStore
from ivr.store.sqlite import SqliteCallStore
from ivr.supervisor import Supervisor
from ivr.telephony.base import MediaCodec
from ivr.telephony.twilio_media import TwilioMediaCodec
from ivr.telephony.twilio_signature import TwilioSignatureValidator
from ivr.tts.factory import build_tts
from ivr.web import api, customers_api, internal, media_socket, twilio_routes
from ivr.web.internal import ensure_internal_token
from ivr.web.keys import SERVICES
from ivr.web.services import Services

log = logging.getLogger(__name__)


@dataclass
class _Readiness:
    supervisor: Supervisor | None
    bridge: RasaBridge
    asr_loaded: bool = False
    tts_ready: bool = False
    rasa_ok: bool = False

    def parts(self) -> dict[str, str]:
        parts = {"asr": "up" if self.asr_loaded else "down",
                 "tts": "up" if self.tts_ready else "down"}
        if self.supervisor is not None:
            parts.update(self.supervisor.parts())
        else:
            parts["rasa"] = "up" if self.rasa_ok else "down"
        return parts

    def ready(self) -> tuple[bool, str]:
        down = [name for name, state in self.parts().items() if state != "up"]
        return (not down, "" if not down else "down: " + ",".join(sorted(down)))

    async def poll_rasa(self) -> None:
        """For an external Rasa (not supervised here): health every few seconds."""
        while True:
            self.rasa_ok = await self.bridge.healthy()
            await asyncio.sleep(2 if not self.rasa_ok else 5)


class _WsSink:
    def __init__(self, codec: MediaCodec, stream_sid: str,
                 send: Callable[[str], object]) -> None:
        self._codec = codec
        self._sid = stream_sid
        self._send = send

    async def send_media(self, ulaw: bytes) -> None:
        await self._send(self._codec.media(self._sid, ulaw))  # type: ignore[misc]

    async def send_mark(self, name: str) -> None:
        await self._send(self._codec.mark(self._sid, name))  # type: ignore[misc]

    async def send_clear(self) -> None:
        await self._send(self._codec.clear(self._sid))  # type: ignore[misc]


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
    twilio_routes.setup(app)
    media_socket.setup(app)
    api.setup(app)
    internal.setup(app)
    customers_api.setup(app)
    return app


def _services_ctx(config: Config) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        if config.twilio.insecure_skip_signature:
            log.warning("twilio.insecure_skip_signature is ON: provider signatures are NOT "
                        "checked. Never use this setting in production.")
        store = await SqliteCallStore.open(config.store.sqlite_path)
        customer_store = await SqliteCustomerStore.open(config.store.sqlite_path)
        http = aiohttp.ClientSession()
        executor = ThreadPoolExecutor(config.asr.threads, thread_name_prefix="asr")
        bridge = RasaBridge(http, config.rasa.url, config.rasa.timeout_s)
        supervisor = Supervisor(rasa_children(config, http)) if config.rasa.managed else None
        readiness = _Readiness(supervisor, bridge)
        tts = build_tts(config)
        background: list[asyncio.Task[None]] = []
        try:
            loop = asyncio.get_running_loop()
            models = {lang: config.model_dir(lang) for lang in Language}
            asr_task = loop.run_in_executor(executor, VoskEngine, models)
            await tts.start()
            prompts = load_prompts()
            prompt_audio = {}
            for lang in Language:
                for prompt in (SystemPrompt.UNAVAILABLE, SystemPrompt.TECHNICAL_ERROR):
                    pcm = await tts.synthesize(prompts.text(prompt, lang), lang)
                    prompt_audio[(prompt.value, lang)] = pcm
            readiness.tts_ready = True
            engine = await asr_task
            readiness.asr_loaded = True
            if supervisor is not None:
                await supervisor.start(wait=False)
            else:
                background.append(asyncio.create_task(readiness.poll_rasa()))
            endpoint = EndpointConfig(
                min_speech_ms=config.asr.min_speech_ms,
                end_silence_ms=config.asr.end_silence_ms,
                no_input_ms=config.asr.no_input_ms,
                max_utterance_ms=config.asr.max_utterance_ms,
            )
            policy = SessionPolicy(
                barge_in_ms=config.call.barge_in_ms,
                no_input_limit=config.call.no_input_limit,
                max_call_s=config.call.max_call_s,
            )
            handoff = CallbackHandoff()
            metrics = Metrics()

            def new_session(info: CallInfo, codec: MediaCodec, send: Callable[[str], object],
                            close: Callable[[], object]) -> CallSession:
                holder: list[CallSession] = []

                def open_stream() -> CallerAsr:
                    expect = holder[0].expect if holder else None
                    return CallerAsr(engine, executor, info.language,
                                     expect or Expectation.OPEN, metrics)

                def listener(emit: Callable[[ListenerEvent], None]) -> Listener:
                    vad = WebRtcVad(TELEPHONY_RATE, config.asr.vad_aggressiveness)
                    return Listener(vad, endpoint, open_stream, emit)

                playback = Playback(
                    _WsSink(codec, info.stream_sid, send),
                    on_first_frame=lambda turn, at: holder[0].first_frame_sent(turn, at),
                )
                session = CallSession(
                    info, listener_factory=listener, playback=playback, dialogue=bridge,
                    speech=tts, store=store, prompts=prompts, handoff=handoff, policy=policy,
                    close_media=close, metrics=metrics,  # type: ignore[arg-type]
                )
                holder.append(session)
                return session

            validator = None
            if not config.twilio.insecure_skip_signature:
                validator = TwilioSignatureValidator(config.twilio.auth_token,
                                                     config.server.public_url)
            app[SERVICES] = Services(
                config=config, store=store, codec=TwilioMediaCodec(), validator=validator,
                readiness=readiness, prompts=prompts, prompt_audio=prompt_audio,
                new_session=new_session,
                metrics=metrics,
                customers=CustomerService(customer_store),
            )
            yield
        finally:
            for task in background:
                task.cancel()
            services = app.get(SERVICES)
            if services is not None:
                for session in list(services.active.values()):
                    session.caller_hung_up()
                    await session.wait_ended()
            if supervisor is not None:
                await supervisor.stop()
            await tts.close()
            await http.close()
            executor.shutdown(wait=False, cancel_futures=True)
            await customer_store.close()
            await store.close()

    return ctx
