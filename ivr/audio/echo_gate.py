"""The barge-in gate: is the caller's audio explained by the bot's own audio (echo), or is the
caller talking? Pure: frame levels in, a decision out, no clock (time is frames × frame_ms).

Per frame it compares the echo canceller's output (the residual) with the bot audio played
during the last ``tail_ms`` (the reference envelope: an echo can come from anything played
within the echo tail). While the bot speaks, the residual of pure echo stays a fairly constant
number of dB below that envelope: the gate learns that "residual echo return" as a high
percentile over the last frames the bot was audible (so it follows the canceller as it
converges, and a burst of double talk cannot move it much). A frame is **caller speech** when
its residual is above the noise floor and, if the bot was audible, above the learned echo level
by ``margin_db`` — and the raw line is above the learned echo return (line level relative to
the same envelope) by ``return_margin_db`` (double talk). The second test is what keeps the gate
right when the canceller is wrong: after the echo path's delay changes (network jitter, a busy
phone or server) the canceller needs a second or more to re-learn it and its residual rises to
the echo's own level, but the line is no louder than the echo path makes it; a caller talking
over the bot raises the line itself.

Frames with something on the line teach from the start; silent frames (a line without echo)
only once the bot has been audible for ``tail_ms`` — before that a delayed echo may simply not
have arrived yet, and silence would teach levels far too low for it. Until ``min_learn_frames``
frames were learned a conservative prior echo level is used and the raw line is not tested (so
a caller is heard as reliably as before); once the bot has been audible for the tail, frames
are taken whatever they look like until that many were learned (a loud echo cannot lock the
gate on its prior)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from ivr.core.audio import SAMPLE_WIDTH
from ivr.core.sliding import SlidingPercentile

FULL_SCALE_DB = 20 * math.log10(32768.0)
FLOOR_DB = -100.0


def level_db(frame: bytes) -> float:
    """RMS level of a PCM16 frame in dBFS (``FLOOR_DB`` for silence or ``b""``)."""
    if len(frame) < SAMPLE_WIDTH:
        return FLOOR_DB
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    power = float(np.mean(samples * samples))
    if power <= 1.0:
        return FLOOR_DB
    return max(FLOOR_DB, 10 * math.log10(power) - FULL_SCALE_DB)


@dataclass(frozen=True, slots=True)
class GateConfig:
    frame_ms: int = 20
    # How far back an echo can come from: the bot counts as audible this long after it played.
    # Longer than the canceller's tail (300 ms): an echo delayed beyond what the canceller can
    # model (a long provider round trip) must still be explained, not taken for the caller.
    tail_ms: int = 600
    bot_active_dbfs: float = -55.0  # reference envelope above this: the bot is audible
    prior_echo_db: float = -12.0  # echo level (residual − reference) assumed before learning
    percentile: float = 90.0
    learn_frames: int = 250  # window of bot-audible frames the echo level is learned from
    min_learn_frames: int = 25
    margin_db: float = 6.0  # caller speech must be this far above the learned echo level
    # ... and the raw line this far above the learned echo return (line − reference envelope):
    # a canceller that lost track of the echo path (its delay changed) leaves a loud residual,
    # but the line itself stays as loud as the echo path makes it.
    return_margin_db: float = 6.0
    noise_margin_db: float = 9.0  # ... and this far above the residual's noise floor
    # Double-talk hangover: after a caller frame, audible frames stay the caller's this long
    # (speech has weak frames between strong ones; echo alone never starts a hangover).
    hangover_ms: int = 200
    floor_rise_db_per_s: float = 3.0
    initial_floor_dbfs: float = -65.0

    @property
    def hangover_frames(self) -> int:
        return self.hangover_ms // self.frame_ms

    @property
    def tail_frames(self) -> int:
        return max(1, math.ceil(self.tail_ms / self.frame_ms))


@dataclass(frozen=True, slots=True)
class GateFrame:
    """What the gate saw in one frame and what it decided."""

    mic_db: float
    ref_env_db: float
    out_db: float
    echo_db: float  # the echo level the residual was compared with (relative to ref_env_db)
    bot_active: bool
    caller: bool  # energy in the residual that the bot's audio does not explain

    @property
    def explained(self) -> bool:
        """Audible residual, but the bot's own echo accounts for it."""
        return self.bot_active and not self.caller and self.out_db > FLOOR_DB


class EchoGate:
    """Per call; feed every caller frame in order with :meth:`update`."""

    def __init__(self, config: GateConfig | None = None) -> None:
        self.config = config or GateConfig()
        self._refs: deque[float] = deque(maxlen=self.config.tail_frames)
        # Learned levels, kept sorted: a percentile read costs O(1) on every frame.
        self._echo = SlidingPercentile(self.config.learn_frames, self.config.percentile)
        self._return = SlidingPercentile(self.config.learn_frames, self.config.percentile)
        self._floor = self.config.initial_floor_dbfs
        self._hold = 0
        self._bot_frames = 0  # frames the bot was audible, since the call started
        self.frames = 0
        self.caller_frames = 0

    @property
    def echo_level_db(self) -> float:
        """The residual echo level (dB relative to the reference envelope) now assumed."""
        if len(self._echo) < self.config.min_learn_frames:
            return self.config.prior_echo_db
        return self._echo.value()

    @property
    def return_level_db(self) -> float | None:
        """The echo return (raw line level relative to the reference envelope) learned, or
        None while too little was learned."""
        if len(self._return) < self.config.min_learn_frames:
            return None
        return self._return.value()

    @property
    def noise_floor_db(self) -> float:
        return self._floor

    def update(self, caller: bytes, played: bytes, cleaned: bytes) -> GateFrame:
        """One frame: raw caller audio, bot audio played during it, canceller output."""
        return self.update_levels(level_db(caller), level_db(played), level_db(cleaned))

    def update_levels(self, mic_db: float, ref_db: float, out_db: float) -> GateFrame:
        c = self.config
        self._refs.append(ref_db)
        ref_env = max(self._refs)
        bot_active = ref_env > c.bot_active_dbfs
        echo = self.echo_level_db
        above_noise = out_db > self._floor + c.noise_margin_db
        echo_return = self.return_level_db
        double_talk = out_db > ref_env + echo + c.margin_db and (
            echo_return is None or mic_db > ref_env + echo_return + c.return_margin_db)
        caller = above_noise and (not bot_active or double_talk)
        if caller:
            self._hold = c.hangover_frames
        elif self._hold > 0:
            self._hold -= 1
            caller = above_noise
        # Only frames the echo explains teach the echo levels (double talk cannot drag the
        # thresholds up to the caller's level); silent ones only once the bot has been audible
        # for the echo tail (the silence before a delayed echo arrives cannot pull them down).
        self._bot_frames += bot_active
        settled = self._bot_frames > c.tail_frames
        on_line = mic_db > self._floor + c.noise_margin_db
        if bot_active and (on_line or settled) and (
                not (double_talk or caller) or (settled and len(self._echo) < c.min_learn_frames)):
            self._echo.append(out_db - ref_env)
            self._return.append(mic_db - ref_env)
        self._track_floor(out_db)
        self.frames += 1
        self.caller_frames += caller
        return GateFrame(mic_db, ref_env, out_db, echo, bot_active, caller)

    def _track_floor(self, out_db: float) -> None:
        """Noise floor: falls at once to a quieter frame, rises slowly (speech has pauses)."""
        if out_db < self._floor:
            self._floor = max(out_db, FLOOR_DB)
        else:
            rise = self.config.floor_rise_db_per_s * self.config.frame_ms / 1000
            self._floor = min(out_db, self._floor + rise)
