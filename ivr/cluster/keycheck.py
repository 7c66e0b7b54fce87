"""Every worker of a cluster must use the same server key: ID digits are stored as its keyed
hash (``ivr.customers.idhash``) and dashboard browser cookies are signed with a key derived from
it, so a worker with another key would count every right ID answer as a failure (and lock
customers out). The first worker records a fingerprint of its key in Redis; a worker whose key
has another fingerprint refuses to start."""

from __future__ import annotations

from ivr.cluster.bus import Bus
from ivr.core.errors import ConfigError
from ivr.server_key import derive


def key_fingerprint(key: bytes) -> str:
    """A one-way fingerprint of the server key (reveals nothing about the key)."""
    return derive(key, "cluster-key-fingerprint").hex()[:16]


async def check_same_key(bus: Bus, key: bytes) -> None:
    mine = key_fingerprint(key)
    name = bus.key("server-key-fingerprint")
    if await bus.redis.set(name, mine, nx=True):
        return
    theirs = await bus.redis.get(name)
    if theirs is not None and str(theirs) != mine:
        raise ConfigError(
            "setting server.secret_key: this worker's server key is not the other workers' "
            "(ID digits hashed with one never match on another): give every worker the same "
            f"server.secret_key; Redis key {name} holds the cluster's "
            "fingerprint")
