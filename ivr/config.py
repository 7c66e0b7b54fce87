"""The one place that reads settings: a TOML file (``IVR_CONFIG``) then ``IVR_<SECTION>_<KEY>``
environment variables, validated into frozen dataclasses. Errors name the setting."""

from __future__ import annotations

import dataclasses
import os
import socket
import tomllib
import types
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ivr.campaigns.settings import CampaignsConfig
from ivr.core.errors import ConfigError
from ivr.core.types import Language
from ivr.customers.settings import IdentityConfig

ROOT = Path(__file__).resolve().parent.parent
# Per-user cache shared by every clone (trained Rasa models; scripts/setup.py keeps the Rasa
# virtualenv there too): $XDG_CACHE_HOME/ivr or ~/.cache/ivr, or server.cache_dir.
USER_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser()) / "ivr"


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    # The URL the telephony provider uses to reach this server; signatures are computed on it.
    public_url: str = "http://127.0.0.1:8080"
    data_dir: Path = ROOT / "var"
    cache_dir: Path = USER_CACHE
    log_level: str = "INFO"
    # Calls accepted at once; beyond that a caller hears the apology and the call is refused.
    max_calls: int = 50
    # Bearer token for /api/* and /metrics. When empty the API is closed to everyone except a
    # supervisor's dashboard session (no client is trusted for its network position).
    api_token: str = ""
    # Extra Host header values accepted besides the public URL's host and the listen address
    # (comma-separated, e.g. "ivr.internal:8080, 10.0.0.5:8080").
    allowed_hosts: str = ""
    # Media WebSockets open at once (with or without a call); beyond that upgrades get 503.
    max_media_sockets: int = 60
    # The per-call stream token in the voice webhook's TwiML is valid this long, once.
    stream_token_ttl_s: float = 30.0
    # A media socket that has not sent a valid `start` by then is closed.
    stream_start_timeout_s: float = 10.0
    # The server's own secret: keys the hash of stored ID digits and signs dashboard device
    # cookies ("hex:..." gives raw key bytes in hex). Unset: generated into
    # <data_dir>/secrets.toml like the other secrets. Changing it invalidates the stored ID hashes.
    secret_key: str = ""
    # Reverse proxies (comma-separated IP addresses) whose X-Forwarded-For names the client.
    trusted_proxies: str = ""
    # Shared secret for /internal/* (the action server's X-IVR-Internal-Token header).
    # Empty means "generated at start" and handed to the action server as IVR_INTERNAL_TOKEN.
    internal_token: str = ""


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str = ""
    auth_token: str = ""
    # Only for local development: skips X-Twilio-Signature checks and logs a warning at start.
    insecure_skip_signature: bool = False
    api_base_url: str = "https://api.twilio.com"
    caller_id: str = ""


@dataclass(frozen=True)
class AsteriskConfig:
    """The company's own PBX: ARI (REST + events) for call control, AudioSocket for audio."""

    enabled: bool = False
    ari_url: str = "http://127.0.0.1:8088/ari"
    ari_user: str = "ivr"
    # Secret: IVR_ASTERISK_ARI_PASSWORD or config/local.toml (git-ignored), never committed.
    ari_password: str = field(default="", repr=False)
    app: str = "ivr"  # the Stasis application named in the dialplan
    # Where the IVR's AudioSocket server listens, and the host:port Asterisk connects to.
    audiosocket_host: str = "127.0.0.1"
    audiosocket_port: int = 9092
    audiosocket_advertise: str = ""  # default: audiosocket_host:audiosocket_port
    # Addresses allowed to open AudioSocket connections (comma-separated); empty: the ARI
    # host's addresses.
    audiosocket_peers: str = ""
    dtmf_from: str = "ari"  # "ari" (ChannelDtmfReceived) or "audiosocket" (0x03, Asterisk 20.13+)
    # Outbound calls: the dial string ({number} is replaced) and the caller id shown. Calls
    # from these caller ids (comma-separated; a campaign's caller id) go through the PBX, and
    # every outbound call does with outbound_default.
    outbound_endpoint: str = "PJSIP/{number}@trunk"
    caller_id: str = ""
    outbound_numbers: str = ""
    outbound_default: bool = False
    ring_timeout_s: int = 30
    # Transfers to agents continue the caller's channel in this dialplan context at the
    # agent's extension or queue name.
    transfer_context: str = "ivr-agents"
    request_timeout_s: float = 5.0


@dataclass(frozen=True)
class EchoConfig:
    """Echo cancellation of the caller's track with the bot's own audio as reference, and the
    barge-in gate that ignores speech explained by that echo."""

    enabled: bool = True
    tail_ms: int = 300  # the canceller's filter: echo delay (buffering + line) + room response
    # How long after the bot played its echo may still come back (the gate treats the bot as
    # audible that long): an echo later than the canceller's tail is still not the caller.
    gate_tail_ms: int = 600
    margin_db: float = 6.0
    hangover_ms: int = 200
    residual_suppression: bool = False
    # Frames explained as the bot's own echo become silence before the VAD and the recognizer.
    suppress_echo: bool = True


@dataclass(frozen=True)
class RasaConfig:
    # managed: `ivr serve` starts and supervises the Rasa and action servers itself.
    managed: bool = True
    url: str = "http://127.0.0.1:5005"
    actions_port: int = 5055
    venv: Path = ROOT / ".venv-rasa"
    project_dir: Path = ROOT / "rasa_project"
    model: Path = ROOT / "rasa_project" / "models" / "ivr.tar.gz"
    timeout_s: float = 5.0
    startup_timeout_s: float = 240.0
    # Secrets between the IVR and its Rasa processes (Rasa's --auth-token and the IVR channel;
    # the action server's token). Empty: generated at each start, which only works for a managed
    # Rasa; set both when Rasa runs elsewhere (rasa.managed = false).
    auth_token: str = ""
    actions_token: str = ""
    # One worker: Rasa's in-memory tracker store keeps at most this many conversations (least
    # recently used evicted). With store.url on PostgreSQL, Rasa keeps conversations in the
    # database tracker_db on the same server instead (its SQL tracker store; created by Rasa
    # when missing; empty: "<store database>_rasa"), so any Rasa instance can continue any
    # conversation. Either way a conversation idle for conversation_ttl_s is dropped.
    max_conversations: int = 500
    tracker_db: str = ""
    conversation_ttl_s: float = 3600.0
    # Rasa server processes, at url's port, port + 1, ... Each answers on one event loop (one
    # core); a call always talks to the same one (chosen from its call id: its conversation is
    # there), so several answer simultaneous turns of different calls in parallel. ~600 MB each.
    servers: int = 1

    def server_urls(self) -> list[str]:
        """The base URL of every Rasa server process (``url`` first)."""
        parts = urlsplit(self.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 5005
        netloc = f"[{host}]" if ":" in host else host
        return [f"{parts.scheme}://{netloc}:{port + i}" for i in range(self.servers)]


@dataclass(frozen=True)
class AsrConfig:
    # Directory of a Vosk model per language. Set-up fills these from the model specs below.
    zh_model: Path = ROOT / "var" / "models" / "vosk-model-small-cn-0.22"
    en_model: Path = ROOT / "var" / "models" / "vosk-model-small-en-us-0.15"
    zh_model_url: str = "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip"
    en_model_url: str = "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
    zh_model_sha256: str = ""
    en_model_sha256: str = ""
    threads: int = 2
    # Acoustic-model evaluation chunk in input frames (Kaldi's --frames-per-chunk, default 20):
    # 6 shows a caller's first word 210–260 ms after they start instead of 210–430 (barge-in
    # 360 -> 260 ms), at ~1.7x the decoding CPU. 0 keeps the model's own.
    frames_per_chunk: int = 6
    vad_aggressiveness: int = 2
    # WebRTC VAD keeps calling 60-100 ms of silence after speech "speech" (its hangover);
    # false ends each answer's silence count at the last voiced frame instead.
    vad_hangover: bool = False
    min_speech_ms: int = 120
    end_silence_ms: int = 450
    no_input_ms: int = 6000
    max_utterance_ms: int = 15000


@dataclass(frozen=True)
class TtsConfig:
    cache_dir: Path = ROOT / "var" / "prompts"
    workers: int = 2
    job_timeout_s: float = 10.0
    zh_voice: str = "sit/cmn"
    en_voice: str = "gmw/en-us"
    zh_rate: int = 170
    en_rate: int = 170
    volume: float = 1.0


@dataclass(frozen=True)
class CallConfig:
    default_language: Language = Language.ZH
    # Caller speech this long (with words recognized) during an interruptible prompt stops
    # it; this long stops it even without words.
    barge_in_ms: int = 250
    barge_in_max_ms: int = 700
    no_input_limit: int = 3
    max_call_s: int = 900
    inbound_queue_frames: int = 500
    # Outbound: greet this long after the callee answers if they say nothing first.
    callee_silence_ms: int = 1500
    # Ask the dialogue for the greeting and synthesize it when the call is announced (voice
    # webhook), before its media stream opens.
    prepare_greeting: bool = True
    # Play the opening sentence (audio/prompts.yaml `opening`) the moment the call is answered,
    # while the dialogue prepares the rest of its first turn.
    early_opening: bool = True
    # Per-call bounds on the media stream: one message, audio in one message, the audio rate
    # (real time x slack, with a burst allowance after network stalls), messages per second,
    # and malformed messages before the call is closed with a recorded error.
    max_message_bytes: int = 16384
    max_frame_ms: int = 200
    media_rate_slack: float = 1.25
    media_burst_s: float = 5.0
    max_messages_per_s: float = 150.0
    max_wire_errors: int = 50


@dataclass(frozen=True)
class AnswersConfig:
    """End of answer per question type. ``*_end_silence_ms``: the silence that ends an
    answer; ``*_complete_silence_ms``: the (shorter) silence that ends it once what was heard
    is already a whole answer (a grammar phrase, four digits, "没有了")."""

    yes_no_end_silence_ms: int = 450
    yes_no_complete_silence_ms: int = 160
    rating_end_silence_ms: int = 450
    rating_complete_silence_ms: int = 160
    digits_end_silence_ms: int = 450
    digits_complete_silence_ms: int = 160
    open_end_silence_ms: int = 450
    open_complete_silence_ms: int = 300
    # Feedback, describing a problem: callers pause to think.
    open_long_end_silence_ms: int = 1200
    open_long_complete_silence_ms: int = 400
    # Digits collected across pauses: a pause this long ends the answer; 0 alone then = agent.
    inter_digit_ms: int = 3000
    digits_length: int = 4


@dataclass(frozen=True)
class AgentsConfig:
    # A caller waiting longer than this is offered a callback (and a follow-up is created).
    max_wait_s: float = 180.0
    # How long the provider rings the agent before the <Dial> gives up.
    dial_timeout_s: int = 30
    # How long the IVR waits for the provider's REST API to accept a transfer.
    transfer_timeout_s: float = 10.0
    # Dashboard login back-off: after n failed logins the next attempt from that client (and,
    # from a browser that never logged in as that agent, for that username) waits
    # base * 2^(n-1) seconds, at most max. A browser that logged in before keeps its own count.
    login_backoff_base_s: float = 1.0
    login_backoff_max_s: float = 900.0
    # When agents work, local time in hours_timezone ("09:00-21:00"; "" = any time). Outside
    # these hours, or with no agent of the caller's language logged in, an escalated caller is
    # told at once (the no_agent prompt) and asked when an agent should call back.
    hours: str = ""
    hours_days: str = "mon,tue,wed,thu,fri,sat,sun"
    hours_timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class StoreConfig:
    # Where the system of record lives. Empty: SQLite at ``sqlite_path`` (the embedded
    # default); ``sqlite:///relative/path`` or ``sqlite:////absolute/path``: SQLite there;
    # ``postgresql://user@host:port/dbname``: PostgreSQL, needed by several workers (the
    # password from ``IVR_STORE_URL`` or ``PGPASSWORD``, never from a committed file).
    url: str = ""
    sqlite_path: Path = ROOT / "var" / "ivr.sqlite3"
    # PostgreSQL connections per worker.
    pool_size: int = 10


@dataclass(frozen=True)
class ClusterConfig:
    """Several workers on one PostgreSQL (``store.url``) and one Redis (``redis_url``)."""

    # Redis for live coordination (dashboard feed, heartbeats and capacity, handoff signals,
    # Rasa's lock store). Empty: a single worker, nothing shared but the store.
    redis_url: str = ""
    # This worker's name, unique in the cluster. Empty: "<hostname>-<server.port>".
    worker_id: str = ""
    # This worker's own address for the provider's callbacks of calls its dialer places
    # (answer and status URLs; signatures are checked on it as well as on
    # server.public_url). Empty: server.public_url.
    worker_url: str = ""
    # How often a worker refreshes its heartbeat (capacity, live calls).
    heartbeat_s: float = 2.0
    # A worker silent this long is dead: another worker ends its live calls with an error,
    # books callbacks for the callers it held in the agent queue, and marks its in-flight
    # dials unknown.
    dead_after_s: float = 10.0
    # How long a dialer's claim on a campaign target lasts if the worker dies before dialling.
    lease_s: float = 30.0


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    twilio: TwilioConfig = field(default_factory=TwilioConfig)
    asterisk: AsteriskConfig = field(default_factory=AsteriskConfig)
    echo: EchoConfig = field(default_factory=EchoConfig)
    rasa: RasaConfig = field(default_factory=RasaConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    call: CallConfig = field(default_factory=CallConfig)
    answers: AnswersConfig = field(default_factory=AnswersConfig)
    agents: AgentsConfig = field(default_factory=AgentsConfig)
    campaigns: CampaignsConfig = field(default_factory=CampaignsConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)

    @property
    def worker_id(self) -> str:
        """This worker's name: ``cluster.worker_id``, else "<host>-<port>" in a cluster,
        else "" (the only worker)."""
        if self.cluster.worker_id:
            return self.cluster.worker_id
        if self.cluster.redis_url:
            return f"{socket.gethostname()}-{self.server.port}"
        return ""

    @property
    def worker_url(self) -> str:
        return (self.cluster.worker_url or self.server.public_url).rstrip("/")

    def model_dir(self, lang: Language) -> Path:
        return self.asr.zh_model if lang is Language.ZH else self.asr.en_model


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, typ: Any, value: Any, base: Path) -> Any:
    """Convert a TOML or environment value to the annotated type, naming the setting on error."""
    origin = typing.get_origin(typ)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        return None if value in (None, "") else _coerce(name, args[0], value, base)
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError("expected true or false")
        if typ is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("expected an integer")
            return int(value)
        if typ is float:
            return float(value)
        if typ is Path:
            path = Path(str(value)).expanduser()
            return path if path.is_absolute() else (base / path).resolve()
        if isinstance(typ, type) and issubclass(typ, Language):
            return Language(str(value))
        if typ is str:
            if not isinstance(value, str | int | float):
                raise ValueError("expected a string")
            return str(value)
    except ValueError as exc:
        raise ConfigError(f"setting {name}: {exc} (got {value!r})") from exc
    raise ConfigError(f"setting {name}: unsupported type {typ!r}")


def _section(cls: type[Any], name: str, raw: Mapping[str, Any], env: Mapping[str, str],
             base: Path) -> Any:
    hints = typing.get_type_hints(cls)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config section [{name}] must be a table")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in hints:
            raise ConfigError(f"unknown setting {name}.{key}")
        values[key] = _coerce(f"{name}.{key}", hints[key], value, base)
    for f in dataclasses.fields(cls):
        env_name = f"IVR_{name}_{f.name}".upper()
        if env_name in env:
            values[f.name] = _coerce(env_name, hints[f.name], env[env_name], ROOT)
    return cls(**values)


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None, *,
                local_secrets: bool | None = None,
                generate_secrets: bool | Collection[str] = False,
                check: bool = True) -> Config:
    """Read the config file (``path`` or ``$IVR_CONFIG``) and the environment; validate
    (``check=False``: only types, for commands that need a few paths and keys).

    Secrets that neither names come from ``<server.data_dir>/secrets.toml`` (``ivr.secrets``;
    ``generate_secrets`` creates the missing ones: all, or those named). That file is read by
    default only for the process environment (``env`` omitted), so a test passing its own
    ``env`` is hermetic.
    """
    use_secrets = env is None if local_secrets is None else local_secrets
    env = os.environ if env is None else env
    if path is None and env.get("IVR_CONFIG"):
        path = Path(env["IVR_CONFIG"])
    raw: dict[str, Any] = {}
    base = ROOT
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist (IVR_CONFIG)")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
        base = path.resolve().parent
    sections = {f.name: f.type for f in dataclasses.fields(Config)}
    hints = typing.get_type_hints(Config)
    for key in raw:
        if key not in sections:
            raise ConfigError(f"unknown config section [{key}] in {path}")
    built = {
        name: _section(hints[name], name, raw.get(name, {}), env, base) for name in sections
    }
    config = Config(**built)
    if use_secrets or generate_secrets:
        from ivr.secrets import apply_local_secrets

        config = apply_local_secrets(config, raw, env, generate=generate_secrets)
    if check:
        validate(config)
    return config


def validate(config: Config) -> None:
    """Cross-field checks; every message names the setting."""
    url = urlsplit(config.server.public_url)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConfigError(
            f"setting server.public_url: must be an absolute http(s) URL "
            f"(got {config.server.public_url!r})"
        )
    if not 0 < config.server.port < 65536:
        raise ConfigError(f"setting server.port: out of range (got {config.server.port})")
    if not config.twilio.insecure_skip_signature and not config.twilio.auth_token:
        raise ConfigError(
            "setting twilio.auth_token: required to validate provider signatures (set "
            "IVR_TWILIO_AUTH_TOKEN to your Twilio auth token, or start `make run` / `ivr serve` "
            f"once: local mode generates one into {config.server.data_dir / 'secrets.toml'})"
        )
    _validate_asterisk(config.asterisk)
    if not 20 <= config.echo.tail_ms <= 2000:
        raise ConfigError("setting echo.tail_ms: must be between 20 and 2000")
    if not config.echo.tail_ms <= config.echo.gate_tail_ms <= 3000:
        raise ConfigError("setting echo.gate_tail_ms: must be between echo.tail_ms and 3000")
    if config.asr.frames_per_chunk and not 3 <= config.asr.frames_per_chunk <= 300:
        raise ConfigError("setting asr.frames_per_chunk: must be 0 (the model's own) or 3..300")
    if not 0 <= config.asr.vad_aggressiveness <= 3:
        raise ConfigError("setting asr.vad_aggressiveness: must be 0..3")
    for name in ("min_speech_ms", "end_silence_ms", "no_input_ms", "max_utterance_ms"):
        if getattr(config.asr, name) <= 0:
            raise ConfigError(f"setting asr.{name}: must be positive")
    answers = config.answers
    for kind in ("yes_no", "rating", "digits", "open", "open_long"):
        end = getattr(answers, f"{kind}_end_silence_ms")
        short = getattr(answers, f"{kind}_complete_silence_ms")
        if not 0 < short <= end:
            raise ConfigError(f"setting answers.{kind}_complete_silence_ms: must be positive "
                              f"and at most answers.{kind}_end_silence_ms")
    if answers.inter_digit_ms <= 0 or answers.digits_length < 1:
        raise ConfigError("setting answers.inter_digit_ms / answers.digits_length: must be "
                          "positive")
    if config.asr.threads < 1 or config.tts.workers < 1:
        raise ConfigError("setting asr.threads / tts.workers: must be at least 1")
    if config.agents.max_wait_s <= 0 or config.agents.transfer_timeout_s <= 0:
        raise ConfigError("setting agents.max_wait_s / agents.transfer_timeout_s: must be positive")
    if config.campaigns.stale_after_s <= 0 or config.campaigns.line_grace_s <= 0:
        raise ConfigError("setting campaigns.stale_after_s / campaigns.line_grace_s: "
                          "must be positive")
    try:
        config.campaigns.default_policy()
    except ValueError as exc:
        raise ConfigError(f"setting campaigns: {exc}") from exc
    _validate_store(config.store)
    _validate_cluster(config)
    _validate_security(config)
    if config.rasa.timeout_s <= 0:
        raise ConfigError("setting rasa.timeout_s: must be positive")
    rasa = urlsplit(config.rasa.url)
    if rasa.scheme not in ("http", "https") or not rasa.hostname:
        raise ConfigError(f"setting rasa.url: must be an http URL (got {config.rasa.url!r})")


def _validate_asterisk(ast: AsteriskConfig) -> None:
    if not ast.enabled:
        return
    url = urlsplit(ast.ari_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"setting asterisk.ari_url: must be an http(s) URL (got {ast.ari_url!r})")
    if not ast.ari_password:
        raise ConfigError("setting asterisk.ari_password: required (set "
                          "IVR_ASTERISK_ARI_PASSWORD or put it in config/local.toml)")
    if not 0 < ast.audiosocket_port < 65536:
        raise ConfigError("setting asterisk.audiosocket_port: out of range")
    if ast.dtmf_from not in ("ari", "audiosocket"):
        raise ConfigError("setting asterisk.dtmf_from: must be 'ari' or 'audiosocket'")
    if "{number}" not in ast.outbound_endpoint:
        raise ConfigError("setting asterisk.outbound_endpoint: must contain {number}")


def _validate_store(store: StoreConfig) -> None:
    scheme = urlsplit(store.url).scheme if store.url else ""
    if scheme not in ("", "sqlite", "postgresql", "postgres"):
        raise ConfigError("setting store.url: must be empty, sqlite:///path or "
                          f"postgresql://... (got scheme {scheme!r})")
    if scheme == "sqlite" and not store.url.startswith("sqlite:///"):
        raise ConfigError("setting store.url: a SQLite URL is sqlite:///relative/path or "
                          "sqlite:////absolute/path")
    if scheme in ("postgresql", "postgres") and not urlsplit(store.url).hostname:
        raise ConfigError("setting store.url: a PostgreSQL URL needs a host")
    if store.pool_size < 1:
        raise ConfigError("setting store.pool_size: must be at least 1")


def _validate_cluster(config: Config) -> None:
    cluster = config.cluster
    if cluster.redis_url:
        if urlsplit(cluster.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError("setting cluster.redis_url: must be redis://, rediss:// or "
                              "unix://")
        if urlsplit(config.store.url).scheme not in ("postgresql", "postgres"):
            raise ConfigError("setting store.url: several workers (cluster.redis_url set) "
                              "share one PostgreSQL database: set a postgresql:// URL")
    if cluster.worker_url:
        url = urlsplit(cluster.worker_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ConfigError("setting cluster.worker_url: must be an absolute http(s) URL")
    if cluster.heartbeat_s <= 0 or cluster.dead_after_s <= 2 * cluster.heartbeat_s:
        raise ConfigError("setting cluster.dead_after_s: must be more than twice "
                          "cluster.heartbeat_s (which must be positive)")
    if cluster.lease_s <= 0:
        raise ConfigError("setting cluster.lease_s: must be positive")


def _validate_security(config: Config) -> None:
    server, call, ident = config.server, config.call, config.identity
    for name in ("max_media_sockets", "stream_token_ttl_s", "stream_start_timeout_s"):
        if getattr(server, name) <= 0:
            raise ConfigError(f"setting server.{name}: must be positive")
    for name in ("max_message_bytes", "max_frame_ms", "media_burst_s",
                 "max_messages_per_s", "max_wire_errors"):
        if getattr(call, name) <= 0:
            raise ConfigError(f"setting call.{name}: must be positive")
    if call.media_rate_slack < 1:
        raise ConfigError("setting call.media_rate_slack: must be at least 1")
    problem = ident.problem()
    if problem:
        raise ConfigError(f"setting {problem}")
    if not 1 <= config.rasa.servers <= 16:
        raise ConfigError(f"setting rasa.servers: must be 1..16 (got {config.rasa.servers})")
    if config.rasa.max_conversations < 1 or config.rasa.conversation_ttl_s <= 0:
        raise ConfigError("setting rasa.max_conversations / rasa.conversation_ttl_s: "
                          "must be positive")
