"""What ``ivr serve`` tells a person at start: which secrets and provider settings it runs with
(and what works without the missing ones), then — once every part is up — where it listens and
the commands that place a first call. Pure text from settings; printing is the caller's job."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ivr.config import ROOT, Config
from ivr.secrets import SECRET_SETTINGS, read_secrets, secrets_path

FIRST_CALL_SCRIPTS = {"zh": Path("audio/fixtures/zh/happy_path/script.yaml"),
                      "en": Path("audio/fixtures/en/happy_path/script.yaml")}
SOFTPHONE_CUSTOMER = {"zh": ("C-zh-happy", "张先生"), "en": ("C-en-happy", "Mr. Smith")}


class Source(StrEnum):
    EXPLICIT = "set"
    GENERATED = "generated"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class Launch:
    """How the server was started, so the printed commands reach the same settings."""

    config_file: Path | None
    env_settings: tuple[str, ...]  # names of IVR_* variables in the environment
    cwd: Path


def launch_from(config_file: str | None, env: Mapping[str, str]) -> Launch:
    path = config_file or env.get("IVR_CONFIG") or None
    names = tuple(sorted(k for k in env if k.startswith("IVR_") and k != "IVR_CONFIG"))
    return Launch(Path(path) if path else None, names, Path.cwd())


def secret_sources(config: Config) -> dict[str, Source]:
    """Where each secret setting's value came from (the generated file or elsewhere)."""
    stored = read_secrets(secrets_path(config.server.data_dir))
    sources = {}
    for setting in SECRET_SETTINGS:
        value = getattr(getattr(config, setting.section), setting.key)
        if not value:
            sources[setting.name] = Source.EMPTY
        elif stored.get(setting.name) == value:
            sources[setting.name] = Source.GENERATED
        else:
            sources[setting.name] = Source.EXPLICIT
    return sources


def local_mode(config: Config) -> bool:
    """No provider account: the provider token is the generated one (simulator only)."""
    return secret_sources(config)["twilio.auth_token"] is Source.GENERATED


def _shown(path: Path, cwd: Path) -> str:
    path = path.absolute()
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def setup_lines(config: Config) -> list[str]:
    """Secrets and provider settings: what is missing and what works without it."""
    src = secret_sources(config)
    file = secrets_path(config.server.data_dir)
    generated = [name for name, s in src.items() if s is Source.GENERATED]
    lines = []
    if generated:
        lines.append(f"secrets: {', '.join(generated)} from {file} (generated for this machine; "
                     f"the environment or the config file override them)")
    twilio = config.twilio
    if twilio.insecure_skip_signature:
        lines.append("WARNING: twilio.insecure_skip_signature is on: webhook signatures are NOT "
                     "checked (development only)")
    if src["twilio.auth_token"] is Source.GENERATED:
        lines.append("Twilio: no account configured (twilio.auth_token is the generated local "
                     "token). Works: inbound calls from the simulator (`ivr call`) and the "
                     "softphone. Needs IVR_TWILIO_AUTH_TOKEN (your account's) and a public "
                     "server.public_url: calls from real phone numbers.")
    if not twilio.account_sid:
        lines.append("Twilio: twilio.account_sid not set: outbound campaigns and transfers to "
                     "human agents are off (set IVR_TWILIO_ACCOUNT_SID and twilio.caller_id).")
    if src["server.api_token"] is Source.EMPTY:
        lines.append("server.api_token is set empty: /api/* answers loopback clients only.")
    return lines


def _ivr_command(launch: Launch, *args: str) -> str:
    exe = ROOT / ".venv" / "bin" / "ivr"
    parts = [_shown(exe, launch.cwd)]
    if launch.config_file is not None:
        parts += ["--config", _shown(launch.config_file, launch.cwd)]
    return " ".join([*parts, *(shlex.quote(a) for a in args)])


def _local_url(config: Config) -> str:
    host = config.server.host
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{config.server.port}"


def ready_lines(config: Config, launch: Launch, parts: Mapping[str, str],
                waited_s: float) -> list[str]:
    """The banner printed once every part is up."""
    url = _local_url(config)
    public = config.server.public_url.rstrip("/")
    lines = [f"ivr: ready in {waited_s:.0f} s — listening on {url}"
             + (f" (public URL {public})" if public != url else ""),
             "  parts: " + ", ".join(f"{name} {state}" for name, state in parts.items()),
             f"  Twilio voice webhook: {public}/twilio/voice"]
    extra = [] if public == url else ["--url", url]
    lines.append("First call without a phone (the simulator speaks a bundled script):")
    for script in FIRST_CALL_SCRIPTS.values():
        lines.append("  " + _ivr_command(launch, *extra, "call", "--script",
                                         _shown(ROOT / script, launch.cwd)))
    customer_id, title = SOFTPHONE_CUSTOMER["zh"]
    lines.append("Talk to it with a microphone (headphones; see README, softphone):")
    lines.append("  " + _ivr_command(launch, *extra, "softphone", "--lang", "zh",
                                     "--customer-id", customer_id, "--customer-title", title))
    if any(p.name.startswith("tiny") for p in (config.asr.zh_model, config.asr.en_model)):
        lines.append("  (the tiny test models recognize only espeak-ng speech of ~50 words: "
                     "a person needs the official models, see README)")
    if launch.env_settings:
        lines.append("  run these with the same environment: "
                     + " ".join(launch.env_settings))
    lines.append("Ctrl-C stops the IVR, Rasa and the action server.")
    return lines
