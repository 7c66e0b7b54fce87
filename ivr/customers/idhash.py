"""The last 4 characters of a customer's ID number, kept only as a keyed hash.

``HMAC-SHA256(key, customer_id + "\\n" + last4)`` with a key derived from the server secret
(``ivr.server_key``): a copy of the database alone does not give the digits (a plain hash of
four digits would be reversed in a millisecond), and equal digits of two customers do not give
equal hashes. Whether the ID ends in X is kept as a flag, so the prompt can say "press * for X".
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

from ivr.customers.model import Customer
from ivr.server_key import derive

_FULLWIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")


def normalize_last4(value: str) -> str:
    return "".join(value.translate(_FULLWIDTH).split()).upper()


class IdHasher:
    def __init__(self, server_key: bytes) -> None:
        self._key = derive(server_key, "id-last4")

    def __repr__(self) -> str:
        return "IdHasher()"

    def hash(self, customer_id: str, last4: str) -> str:
        message = f"{customer_id}\n{normalize_last4(last4)}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def matches(self, customer_id: str, given: str, stored: str | None) -> bool:
        """Constant-time comparison of ``given`` with the stored hash (False when none)."""
        return bool(stored) and hmac.compare_digest(self.hash(customer_id, given),
                                                    str(stored))

    def protect(self, customer: Customer) -> Customer:
        """``customer`` with its plain ID digits replaced by the hash and the X flag."""
        if customer.id_last4 is None:
            return customer
        last4 = normalize_last4(customer.id_last4)
        return dataclasses.replace(customer, id_last4=None,
                                   id_hash=self.hash(customer.customer_id, last4),
                                   id_ends_with_x=last4.endswith("X"))
