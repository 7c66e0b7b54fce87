"""Doctor checks of ports, provider settings, secrets and the public URL."""

from __future__ import annotations

import ipaddress
import stat
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from ivr.banner import Source, secret_sources
from ivr.config import Config
from ivr.doctor.report import Finding, fail, ok, warn
from ivr.secrets import secrets_path
from ivr.startup import busy_ports, port_in_use_message, ports_needed


def reach(url: str, timeout_s: float) -> str:
    """'' when ``url`` answers HTTP (any status), else the reason it did not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s):
            return ""
    except urllib.error.HTTPError:
        return ""
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return str(getattr(exc, "reason", exc))


def _local_url(config: Config) -> str:
    host = config.server.host
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{host}:{config.server.port}"


def check_ports_free(config: Config) -> list[Finding]:
    busy = busy_ports(config)
    if not busy:
        ports = ", ".join(f"{u.port} ({u.setting})" for u in ports_needed(config))
        return [ok("ports", f"free: {ports}")]
    if not reach(f"{_local_url(config)}/healthz", 2.0):
        return [ok("ports", f"an IVR is serving on {_local_url(config)} (ports in use by it)")]
    return [fail("ports", f"port {use.port} ({use.setting}) cannot be used: {err.strerror}",
                 port_in_use_message(use)) for use, err in busy]


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_provider(config: Config) -> list[Finding]:
    out = []
    sources = secret_sources(config)
    path = secrets_path(config.server.data_dir)
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        out.append(ok("secrets file", f"{path} (mode {mode:o})") if not mode & 0o077 else
                   fail("secrets file", f"{path} is readable by others (mode {mode:o})",
                        f"chmod 600 {path}"))
    twilio = config.twilio
    if twilio.insecure_skip_signature:
        out.append(fail("twilio", "twilio.insecure_skip_signature is on: signatures unchecked",
                        "remove the setting (development only)"))
    if sources["twilio.auth_token"] is Source.GENERATED:
        out.append(warn("twilio", "no account: twilio.auth_token is the generated local token "
                                  "(simulator and softphone only)",
                        "export IVR_TWILIO_AUTH_TOKEN=<your account's auth token>"))
    elif sources["twilio.auth_token"] is Source.EXPLICIT:
        out.append(ok("twilio", "twilio.auth_token set"))
    if not twilio.account_sid:
        out.append(warn("twilio", "twilio.account_sid not set: outbound campaigns and agent "
                                  "transfers are off", "set IVR_TWILIO_ACCOUNT_SID and "
                                                       "twilio.caller_id"))
    elif not twilio.caller_id:
        out.append(warn("twilio", "twilio.caller_id not set: outbound calls have no caller ID",
                        "set twilio.caller_id to one of your Twilio numbers"))
    if sources["server.api_token"] is Source.EMPTY:
        out.append(warn("api", "server.api_token is set empty", "remove the setting to use a "
                                                                "generated token, or set one"))
    return out


def check_public_url(config: Config) -> list[Finding]:
    public = config.server.public_url.rstrip("/")
    reason = reach(f"{public}/healthz", 5.0)
    if _loopback(public):
        note = "loopback: the simulator and softphone can call it; a provider needs a public " \
               "https URL in server.public_url"
        if reason:
            return [warn("public URL", f"{public}: nothing answers ({reason}); {note}",
                         "start it: make run")]
        return [ok("public URL", f"{public} answers ({note})")]
    out = []
    if urlsplit(public).scheme != "https":
        out.append(warn("public URL", f"{public} is not https (Twilio media streams need wss://)",
                        "put the IVR behind TLS (README, Setting up Twilio)"))
    if reason:
        out.append(fail("public URL", f"{public}/healthz unreachable from here: {reason}",
                        "check server.public_url, the proxy and DNS; is ivr serve up?"))
    else:
        out.append(ok("public URL", f"{public}/healthz answers"))
    return out
