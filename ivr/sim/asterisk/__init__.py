"""An Asterisk emulator for tests: the ARI REST resources and WebSocket events the IVR's
Asterisk adapter uses, and AudioSocket client legs to the IVR, to the documented wire formats.
A phone attaches to a caller channel through :class:`PhoneLeg`."""

from ivr.sim.asterisk.emulator import AsteriskEmulator
from ivr.sim.asterisk.model import OriginateRequest, PhoneLeg

__all__ = ["AsteriskEmulator", "OriginateRequest", "PhoneLeg"]
