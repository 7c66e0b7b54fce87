"""X-Twilio-Signature validation against the configured public URL."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from ivr.core.errors import ErrorCode, SignatureError
from ivr.telephony.twilio.signature import TwilioSignatureValidator, sign

# Twilio's documented example (auth token 12345). The webhooks-security page of Twilio's docs
# (twilio.com/docs/usage/webhooks/webhooks-security, formerly /docs/usage/security) uses the
# +14158675310 numbers; older twilio-php/-python docs use +14158675309. Both are pinned.
DOC_TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


def _doc_params(number: str) -> dict[str, str]:
    return {
        "CallSid": "CA1234567890ABCDE",
        "Caller": number,
        "Digits": "1234",
        "From": number,
        "To": "+18005551212",
    }


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="),
        ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ],
)
def test_sign_matches_twilio_documented_vector(number: str, expected: str) -> None:
    assert sign(DOC_URL, _doc_params(number), DOC_TOKEN) == expected


def test_validator_accepts_documented_vector_via_public_base_url() -> None:
    validator = TwilioSignatureValidator(DOC_TOKEN, "https://mycompany.com")
    validator.validate_webhook(
        "/myapp.php?foo=1&bar=2", _doc_params("+14158675310"), "GvWf1cFY/Q7PnoempGyD5oXAezc="
    )


TOKEN = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
BASE = "https://ivr.example.com"
FORM = {"CallSid": "CA" + "1" * 32, "From": "+15551234567", "To": "+15557654321"}


@pytest.fixture
def validator() -> TwilioSignatureValidator:
    return TwilioSignatureValidator(TOKEN, BASE + "/")


def test_webhook_signed_for_public_url_is_accepted(validator: TwilioSignatureValidator) -> None:
    signature = sign(BASE + "/twilio/voice?lang=zh", FORM, TOKEN)
    validator.validate_webhook("/twilio/voice?lang=zh", FORM, signature)


def test_internal_host_url_is_not_what_counts(validator: TwilioSignatureValidator) -> None:
    # Signed for the address the server sees behind the proxy, not the public one: rejected.
    signature = sign("http://10.0.0.5:8080/twilio/voice", FORM, TOKEN)
    with pytest.raises(SignatureError):
        validator.validate_webhook("/twilio/voice", FORM, signature)


def test_public_url_with_explicit_default_port_is_accepted(
    validator: TwilioSignatureValidator,
) -> None:
    signature = sign("https://ivr.example.com:443/twilio/voice", FORM, TOKEN)
    validator.validate_webhook("/twilio/voice", FORM, signature)


def test_configured_port_also_matches_signature_without_port() -> None:
    validator = TwilioSignatureValidator(TOKEN, "https://ivr.example.com:443")
    validator.validate_webhook("/twilio/voice", FORM, sign(BASE + "/twilio/voice", FORM, TOKEN))


def test_non_default_port_with_and_without_port() -> None:
    # Twilio's validator strips whatever port is configured as its "without port" try.
    validator = TwilioSignatureValidator(TOKEN, "https://ivr.example.com:8443")
    validator.validate_webhook("/v", FORM, sign("https://ivr.example.com:8443/v", FORM, TOKEN))
    validator.validate_webhook("/v", FORM, sign(BASE + "/v", FORM, TOKEN))
    with pytest.raises(SignatureError):
        validator.validate_webhook("/v", FORM, sign("https://ivr.example.com:9443/v", FORM, TOKEN))


def test_base_url_path_prefix_is_kept() -> None:
    validator = TwilioSignatureValidator(TOKEN, "https://example.com/ivr/")
    signature = sign("https://example.com/ivr/twilio/status", FORM, TOKEN)
    validator.validate_webhook("/twilio/status", FORM, signature)


@pytest.mark.parametrize(
    ("path", "form", "why"),
    [
        ("/twilio/voice", {**FORM, "Digits": "9"}, "added parameter"),
        ("/twilio/voice", {**FORM, "From": "+15550000000"}, "changed parameter"),
        ("/twilio/voice?x=1", FORM, "changed query"),
        ("/twilio/other", FORM, "changed path"),
    ],
)
def test_forged_requests_are_rejected(
    validator: TwilioSignatureValidator, path: str, form: dict[str, str], why: str
) -> None:
    signature = sign(BASE + "/twilio/voice", FORM, TOKEN)
    with pytest.raises(SignatureError) as info:
        validator.validate_webhook(path, form, signature)
    assert info.value.code is ErrorCode.SIGNATURE_INVALID, why


def test_signature_with_wrong_token_is_rejected(validator: TwilioSignatureValidator) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        validator.validate_webhook("/v", FORM, sign(BASE + "/v", FORM, "not-the-token"))


@pytest.mark.parametrize("signature", [None, ""])
def test_missing_signature_is_rejected(
    validator: TwilioSignatureValidator, signature: str | None
) -> None:
    with pytest.raises(SignatureError, match="missing X-Twilio-Signature"):
        validator.validate_webhook("/v", FORM, signature)


def test_repeated_form_keys_are_all_signed(validator: TwilioSignatureValidator) -> None:
    form = MultiDict([("StatusCallbackEvent", "ringing"), ("StatusCallbackEvent", "answered")])
    validator.validate_webhook("/s", form, sign(BASE + "/s", form, TOKEN))
    with pytest.raises(SignatureError):
        validator.validate_webhook(
            "/s", MultiDict([("StatusCallbackEvent", "ringing")]), sign(BASE + "/s", form, TOKEN)
        )


def test_websocket_upgrade_uses_wss_url_without_params(
    validator: TwilioSignatureValidator,
) -> None:
    signature = sign("wss://ivr.example.com/twilio/media", {}, TOKEN)
    validator.validate_websocket("/twilio/media", signature)
    assert validator.public_ws_url("/twilio/media") == "wss://ivr.example.com/twilio/media"


def test_websocket_with_and_without_port(validator: TwilioSignatureValidator) -> None:
    validator.validate_websocket(
        "/twilio/media", sign("wss://ivr.example.com:443/twilio/media", {}, TOKEN)
    )
    ported = TwilioSignatureValidator(TOKEN, "https://ivr.example.com:443")
    ported.validate_websocket(
        "/twilio/media", sign("wss://ivr.example.com/twilio/media", {}, TOKEN)
    )


def test_websocket_forgeries_are_rejected(validator: TwilioSignatureValidator) -> None:
    with pytest.raises(SignatureError):  # signed for https, not wss
        validator.validate_websocket(
            "/twilio/media", sign("https://ivr.example.com/twilio/media", {}, TOKEN)
        )
    with pytest.raises(SignatureError):
        validator.validate_websocket(
            "/twilio/media", sign("wss://evil.example.com/twilio/media", {}, TOKEN)
        )
    with pytest.raises(SignatureError, match="missing"):
        validator.validate_websocket("/twilio/media", None)


def test_plain_http_base_maps_to_ws() -> None:
    validator = TwilioSignatureValidator(TOKEN, "http://127.0.0.1:8080")
    validator.validate_websocket("/m", sign("ws://127.0.0.1:8080/m", {}, TOKEN))


def test_errors_and_repr_never_show_the_token(validator: TwilioSignatureValidator) -> None:
    with pytest.raises(SignatureError) as info:
        validator.validate_webhook("/v?x=1", FORM, "bogus")
    assert TOKEN not in str(info.value)
    assert "+15551234567" not in str(info.value)
    assert TOKEN not in repr(validator)


@pytest.mark.parametrize(
    "base", ["ivr.example.com", "ftp://ivr.example.com", "https://ivr.example.com/?a=1"]
)
def test_bad_public_base_url_is_refused(base: str) -> None:
    with pytest.raises(ValueError):
        TwilioSignatureValidator(TOKEN, base)


def test_relative_raw_path_is_refused(validator: TwilioSignatureValidator) -> None:
    with pytest.raises(ValueError):
        validator.validate_webhook("twilio/voice", FORM, "sig")
