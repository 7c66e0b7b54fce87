"""Provider-neutral values shared by every adapter: transfer targets and REST errors.

The adapter interface itself (media channel, call control, webhooks) is ``ivr.telephony.provider``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ivr.core.errors import ProviderApiError
from ivr.core.pii import mask_phone

_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,121}$")


class TransferKind(StrEnum):
    PHONE = "phone"
    SIP = "sip"
    CLIENT = "client"


@dataclass(frozen=True, slots=True, repr=False)
class TransferTarget:
    """Where a call is handed to: an E.164 number, a ``sip:`` URI, or a soft-phone client id."""

    kind: TransferKind
    address: str

    def __post_init__(self) -> None:
        kind = TransferKind(self.kind)  # accepts the plain string values too
        object.__setattr__(self, "kind", kind)
        if kind is TransferKind.PHONE and not _E164.match(self.address):
            raise ValueError("phone transfer target must be an E.164 number like +15551234567")
        if kind is TransferKind.SIP and not self.address.lower().startswith(("sip:", "sips:")):
            raise ValueError("sip transfer target must be a sip: or sips: URI")
        if kind is TransferKind.CLIENT and not _CLIENT_ID.match(self.address):
            raise ValueError(
                "client transfer target must be a plain identity (letters, digits, _.@-)"
            )

    def __repr__(self) -> str:
        # mask_phone also masks digit runs inside SIP URIs (sip:+8613812345678@pbx).
        return f"TransferTarget(kind={self.kind.value!r}, address={mask_phone(self.address)!r})"


class ProviderHttpError(ProviderApiError):
    """A provider REST call failed. ``http_status`` is 0 when no HTTP answer arrived (timeout,
    connection refused); ``provider_code``/``more_info`` are the provider's own error fields."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int = 0,
        provider_code: int | None = None,
        more_info: str = "",
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.provider_code = provider_code
        self.more_info = more_info
