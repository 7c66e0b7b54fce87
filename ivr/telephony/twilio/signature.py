"""``X-Twilio-Signature`` checks for webhooks and the media WebSocket upgrade.

The URL that is checked is the configured PUBLIC base URL (what Twilio was told, e.g.
``https://ivr.example.com``) plus the raw request path and query, never the Host header the
server sees behind a proxy. The ``twilio`` library's ``RequestValidator`` tries the URL with and
without the default port. See https://www.twilio.com/docs/usage/webhooks/webhooks-security
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

from ivr.core.errors import SignatureError

SIGNATURE_HEADER: Final = "X-Twilio-Signature"


def sign(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """The signature Twilio would send for ``url`` with form ``params`` (empty for GET/WS).

    Used by the phone simulator and tests to act like Twilio.
    """
    return str(RequestValidator(auth_token).compute_signature(url, params))


class TwilioSignatureValidator:
    """Validates requests against ``public_base_url`` (scheme + host [+ port] [+ path prefix])."""

    def __init__(self, auth_token: str, public_base_url: str) -> None:
        parts = urlsplit(public_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("public_base_url must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("public_base_url must not carry a query or fragment")
        if not auth_token:
            raise ValueError("auth_token is empty")
        self._validator = RequestValidator(auth_token)
        self._base = public_base_url.rstrip("/")
        ws_scheme = "wss" if parts.scheme == "https" else "ws"
        self._ws_base = ws_scheme + self._base[len(parts.scheme) :]

    def __repr__(self) -> str:  # never show the token
        return f"TwilioSignatureValidator(public_base_url={self._base!r})"

    def public_url(self, raw_path: str) -> str:
        """``raw_path`` is the request target as received (aiohttp: ``request.raw_path``)."""
        return self._base + _absolute_path(raw_path)

    def public_ws_url(self, raw_path: str) -> str:
        return self._ws_base + _absolute_path(raw_path)

    def validate_webhook(
        self, raw_path: str, form: Mapping[str, str], signature: str | None
    ) -> None:
        """A form-encoded POST webhook (voice, status callbacks, Dial action, AMD result).

        ``form`` may be a multidict (every value of a repeated key is signed).
        Raises ``SignatureError`` when the header is missing or does not match.
        """
        self._check([self.public_url(raw_path)], form, signature)

    def validate_websocket(self, raw_path: str, signature: str | None) -> None:
        """The GET that upgrades to the media WebSocket: the ``wss://`` URL, no parameters.

        ``RequestValidator`` only knows the default ports of http/https, so the ``wss``/``ws``
        URL is also tried with its default port (443/80) spelled out.
        """
        url = self.public_ws_url(raw_path)
        self._check([url, *_with_default_ws_port(url)], {}, signature)

    def _check(self, urls: list[str], params: Mapping[str, str], signature: str | None) -> None:
        path = urlsplit(urls[0]).path
        if not signature:
            raise SignatureError(f"missing {SIGNATURE_HEADER} header for {path}")
        if not any(self._validator.validate(url, params, signature) for url in urls):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match for {path}")


def _with_default_ws_port(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.port is not None:
        return []
    port = 443 if parts.scheme == "wss" else 80
    return [parts._replace(netloc=f"{parts.netloc}:{port}").geturl()]


def _absolute_path(raw_path: str) -> str:
    if not raw_path.startswith("/"):
        raise ValueError("raw_path must start with '/'")
    return raw_path
