"""Transfer targets and the provider error type."""

from __future__ import annotations

import pytest

from ivr.core.errors import ErrorCode, ProviderApiError
from ivr.telephony.base import ProviderHttpError, TransferKind, TransferTarget


def test_transfer_target_accepts_plain_string_kind() -> None:
    target = TransferTarget("sip", "sip:queue@pbx.example.com")  # type: ignore[arg-type]
    assert target.kind is TransferKind.SIP


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        ("phone", "5551234567"),
        ("phone", "+1 555 123 4567"),
        ("phone", ""),
        ("sip", "agent@pbx.example.com"),
        ("client", "agent 7"),
        ("client", ""),
        ("fax", "+15551234567"),
    ],
)
def test_transfer_target_rejects_bad_addresses(kind: str, address: str) -> None:
    with pytest.raises(ValueError):
        TransferTarget(kind, address)  # type: ignore[arg-type]


def test_transfer_target_repr_masks_phone_numbers() -> None:
    target = TransferTarget(TransferKind.PHONE, "+15551234567")
    assert "+15551234567" not in repr(target)
    assert repr(target) == "TransferTarget(kind='phone', address='+1555***4567')"
    sip = TransferTarget(TransferKind.SIP, "sip:+8613812345678@pbx.example.com")
    assert "13812345678" not in repr(sip)
    assert "sip:agent7@pbx" in repr(TransferTarget(TransferKind.SIP, "sip:agent7@pbx"))


def test_provider_http_error_is_a_provider_api_error() -> None:
    err = ProviderHttpError("x", http_status=404, provider_code=20404, more_info="u")
    assert isinstance(err, ProviderApiError)
    assert err.code is ErrorCode.PROVIDER_API_FAILED
