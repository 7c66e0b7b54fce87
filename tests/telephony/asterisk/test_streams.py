"""AudioSocket stream binding: announced UUIDs only, once, before they expire."""

from __future__ import annotations

import uuid

from ivr.telephony.asterisk.streams import StreamRegistry


def test_an_announced_stream_binds_once() -> None:
    reg = StreamRegistry(ttl_s=30)
    sid = reg.announce("chan-1", {"lang": "zh"}, now=100.0)
    assert sid.version == 4
    binding = reg.claim(sid, now=101.0)
    assert binding is not None and binding.call_id == "chan-1" and binding.params == {"lang": "zh"}
    assert reg.claim(sid, now=101.0) is None  # a replayed UUID is refused


def test_unknown_and_expired_streams_are_refused() -> None:
    reg = StreamRegistry(ttl_s=30)
    assert reg.claim(uuid.uuid4(), now=0.0) is None
    sid = reg.announce("chan-1", {}, now=0.0)
    assert reg.claim(sid, now=31.0) is None


def test_forget_and_prune() -> None:
    reg = StreamRegistry(ttl_s=10)
    a = reg.announce("chan-1", {}, now=0.0)
    reg.announce("chan-2", {}, now=5.0)
    reg.forget("chan-1")
    assert reg.claim(a, now=1.0) is None
    reg.prune(now=16.0)
    assert len(reg) == 0
