"""Ending a call: the controller's ``EndCall`` has already marked it ended; each step here is
guarded on its own (drain the last words, stop the call's tasks, close the channel, finish the
record), so the record always gets its outcome and ``ended_at`` — even when playback or a task
crashed — and nothing can hang a shutdown."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ivr.store.records import Counter

if TYPE_CHECKING:
    from ivr.call.driver import CallDriver

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_S = 30.0
RECORDED_WIRE_ERRORS = 5  # wire errors recorded one by one; the rest as one summary
STEP_TIMEOUT_S = 5.0


async def teardown(driver: CallDriver) -> None:
    end = driver.end
    assert end is not None
    if end.drain and not driver.stream_over.is_set():
        await _step(driver, "drain", _drain(driver), DRAIN_TIMEOUT_S)
    driver.cancel_timers()
    task = driver.handoff_task
    if task is not None and not task.done():
        if end.reason == "handoff":  # it ended the call itself: let it close its queue entry
            await _step(driver, "handoff", asyncio.shield(task), STEP_TIMEOUT_S)
        task.cancel()
    for stream in driver.media.listener.drop():
        await _step(driver, "asr", stream.cancel(), STEP_TIMEOUT_S)
    await _step(driver, "channel", driver.media.channel.close(), STEP_TIMEOUT_S)
    if driver.wire_errors:
        driver.recorder.count(Counter.WIRE_ERRORS, driver.wire_errors)
    if driver.wire_errors > RECORDED_WIRE_ERRORS:
        driver.recorder.event("wire_error", "not_recorded",
                              {"count": driver.wire_errors - RECORDED_WIRE_ERRORS})
    stats = driver.media.playback.stats
    driver.parts.metrics.playback_frames += stats.frames_sent
    driver.parts.metrics.playback_frames_late += stats.frames_late
    await write_end(driver, direct=False)


async def _drain(driver: CallDriver) -> None:
    """The bot's last words: until synthesized and played, or the caller is gone."""
    if driver.speaking:
        await asyncio.wait(set(driver.speaking))
    over = asyncio.ensure_future(driver.stream_over.wait())
    idle = asyncio.ensure_future(driver.media.playback.wait_idle())
    try:
        await asyncio.wait((over, idle), return_when=asyncio.FIRST_COMPLETED)
    finally:
        over.cancel()
        idle.cancel()


async def _step(driver: CallDriver, name: str, aw: Any, timeout_s: float) -> None:
    try:
        await asyncio.wait_for(aw, timeout_s)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.warning("call %s: teardown step %s: %r", driver.call.call_id, name, exc)


async def write_end(driver: CallDriver, *, direct: bool) -> None:
    """The outcome and ``ended_at``: through the recorder (after everything queued), or
    straight to the store when the recorder is gone or stuck."""
    end = driver.end
    assert end is not None
    fields: dict[str, Any] = {"outcome": end.outcome, "ended_at": datetime.now(UTC)}
    if end.error_code:
        fields["error_code"] = end.error_code
    if not direct:
        driver.recorder.update(**fields)
        if await driver.recorder.flush(STEP_TIMEOUT_S):
            return
    await asyncio.wait_for(driver.parts.store.update_call(driver.call.call_id, **fields),
                           STEP_TIMEOUT_S)
