"""``ivr softphone``: talk to the bot with a microphone and speakers.

The call goes over the phone simulator's wire code (:class:`ivr.sim.phone.PhoneSimulator`):
signed voice webhook, signed Media Streams WebSocket, the 20 ms clock that sends caller frames,
"plays" the bot's audio, echoes marks once the audio before them has played and honours
``clear``. Here the caller frames come from the microphone (:class:`MicSource`) and the played
bot audio goes to the speaker (:class:`SpeakerSink`). The transcript is polled from
``GET /api/calls/{sid}`` about twice a second. Ctrl-C hangs up (a ``stop`` message).
``--record DIR`` turns the call into a replayable fixture (:mod:`ivr.sim.recorder`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from ivr.audio.endpoint import EndpointConfig
from ivr.audio.vad import WebRtcVad
from ivr.config import Config
from ivr.core.audio import TELEPHONY_RATE
from ivr.core.errors import ConfigError
from ivr.core.types import Language
from ivr.sim.cli import options_from_config
from ivr.sim.phone import SILENCE, LiveCall, PhoneSimulator, SimResult, new_sid
from ivr.sim.recorder import TurnRecorder, build_script, match_turns, write_fixture
from ivr.sim.script import CallScript, load_script
from ivr.sim.soundio import MicSource, SpeakerSink, device_spec

POLL_S = 0.5


def format_turn(turn: dict[str, Any]) -> str:
    """One transcript line: what the bot heard from you, or what it said, with timings."""
    extra: list[str] = []
    if turn.get("role") == "caller":
        who = "heard"
        if turn.get("source") not in (None, "speech"):
            extra.append(str(turn["source"]))
        if turn.get("asr_ms") is not None:
            extra.append(f"asr {turn['asr_ms']:.0f} ms")
        if turn.get("barge_in"):
            extra.append("barge-in")
    else:
        who = "bot  "
        if turn.get("latency_ms") is not None:
            extra.append(f"reply latency {turn['latency_ms']:.0f} ms")
        for key, label in (("dialogue_ms", "dialogue"), ("tts_ms", "tts")):
            if turn.get(key) is not None:
                extra.append(f"{label} {turn[key]:.0f} ms")
    suffix = f"   ({', '.join(extra)})" if extra else ""
    return f"  {who}: {turn.get('text', '')}{suffix}"


class Transcript:
    """Prints the call record's new turns; remembers when each caller turn was first seen."""

    def __init__(self, out: TextIO, clock: Callable[[], int]) -> None:
        self.out = out
        self.clock = clock
        self.printed = 0
        self.caller_seen: list[int] = []  # call-clock tick when each caller turn appeared

    def update(self, record: dict[str, Any]) -> None:
        turns = record.get("turns") or []
        for turn in turns[self.printed :]:
            if turn.get("role") == "caller":
                self.caller_seen.append(self.clock())
            print(format_turn(turn), file=self.out, flush=True)
        self.printed = max(self.printed, len(turns))

    async def poll(self, base_url: str, sid: str, api_token: str) -> None:
        headers = {"Authorization": f"Bearer {api_token}"} if api_token else {}
        warned = False
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            while True:
                try:
                    async with http.get(f"{base_url}/api/calls/{sid}", headers=headers) as resp:
                        if resp.status == 200:
                            self.update(await resp.json())
                        elif resp.status != 404 and not warned:
                            warned = True
                            print(f"  (transcript unavailable: HTTP {resp.status})",
                                  file=self.out, flush=True)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    if not warned:
                        warned = True
                        print(f"  (transcript unavailable: {exc})", file=self.out, flush=True)
                await asyncio.sleep(POLL_S)


class Softphone:
    """Plugs the microphone and speaker into the call clock, and follows it for recording."""

    def __init__(self, mic: MicSource, speaker: SpeakerSink,
                 recorder: TurnRecorder | None) -> None:
        self.mic = mic
        self.speaker = speaker
        self.recorder = recorder
        self.ticks = 0
        self.mic_gaps = 0  # ticks where the microphone had nothing ready (silence was sent)
        self._caller = SILENCE
        self._started = False

    def next_frame(self) -> tuple[bytes, bool]:
        """Caller source for the call clock."""
        if not self._started:  # forget what the microphone captured while the call was set up
            self._started = True
            self.mic.drain()
        frame = self.mic.next_frame()
        if frame is None:
            self.mic_gaps += 1
            frame = SILENCE
        self._caller = frame
        return frame, False

    def played(self, bot: bytes) -> None:
        """Bot sink for the call clock (called once per tick, after :meth:`next_frame`)."""
        self.ticks += 1
        self.speaker.play(bot)
        if self.recorder is not None:
            self.recorder.tick(self._caller, bool(bot))


def _endpoint_config(config: Config) -> EndpointConfig:
    return EndpointConfig(min_speech_ms=config.asr.min_speech_ms,
                          end_silence_ms=config.asr.end_silence_ms,
                          max_utterance_ms=config.asr.max_utterance_ms)


def _customer(args: argparse.Namespace) -> dict[str, str]:
    customer = {"id": args.customer_id, "title": args.customer_title}
    return {k: v for k, v in customer.items() if v}


def _record_dir(args: argparse.Namespace) -> Path | None:
    if not args.record:
        return None
    folder = Path(args.record)
    if (folder / "script.yaml").exists():
        raise ConfigError(f"--record {folder}: a script.yaml is already there")
    return folder


async def run_softphone(args: argparse.Namespace, config: Config) -> int:
    try:
        lang = Language(args.lang)
    except ValueError as exc:
        raise ConfigError(f"--lang {args.lang!r}: use one of "
                          f"{', '.join(x.value for x in Language)}") from exc
    folder = _record_dir(args)
    options = options_from_config(config, args.url)
    script = CallScript(name="softphone", lang=lang, turns=(), customer=_customer(args))
    recorder = (TurnRecorder(WebRtcVad(TELEPHONY_RATE, config.asr.vad_aggressiveness),
                             _endpoint_config(config)) if folder else None)
    mic = MicSource(device_spec(args.input))
    speaker = SpeakerSink(device_spec(args.output))
    phone = Softphone(mic, speaker, recorder)
    transcript = Transcript(sys.stdout, lambda: phone.ticks)
    sid = new_sid("CA")
    loop = asyncio.get_running_loop()
    hangup = asyncio.Event()

    def on_signal() -> None:
        hangup.set()
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C stops at once
            loop.remove_signal_handler(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)

    async def drive(live: LiveCall) -> None:
        print("  (connected; speak now — Ctrl-C hangs up)", flush=True)
        waits = [asyncio.create_task(hangup.wait()), asyncio.create_task(live.closed.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        if hangup.is_set() and not live.closed.is_set():
            if recorder is not None:
                recorder.hang_up()
            await live.hangup()

    print(f"ivr softphone: call {sid} to {options.base_url} ({lang.value}); microphone "
          f"{args.input or 'default'} at {mic.rate} Hz, speaker {args.output or 'default'} "
          f"at {speaker.rate} Hz", flush=True)
    mic.start()
    poller: asyncio.Task[None] | None = None
    try:
        speaker.start()
        poller = asyncio.create_task(transcript.poll(options.base_url.rstrip("/"), sid,
                                                     options.api_token))
        result = await PhoneSimulator(options).run(script, drive, source=phone.next_frame,
                                                   sink=phone.played, call_sid=sid)
    except (aiohttp.ClientError, RuntimeError) as exc:
        print(f"ivr softphone: call failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        mic.stop()
        speaker.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if result.record is not None:
        transcript.update(result.record)
    _summary(result, phone)
    if folder is not None and recorder is not None:
        saved = _save(folder, lang, script, recorder, transcript, result)
        if saved != 0:
            return saved
    return 1 if result.refused or mic.error or speaker.error else 0


def _summary(result: SimResult, phone: Softphone) -> None:
    record = result.record or {}
    print(f"call {result.call_sid} ended by {result.ended_by} after {result.duration_s:.1f} s: "
          f"outcome {record.get('outcome')}"
          + (f", escalation {record['escalation_reason']}" if record.get("escalation_reason")
             else ""), flush=True)
    if result.refused:
        print("refused by the server (TwiML without a media stream)")
    late = f"late frames {result.frames_late}" if result.frames_late else ""
    gaps = f"microphone gaps {phone.mic_gaps}" if phone.mic_gaps > 5 else ""
    notes = ", ".join(x for x in (late, gaps) if x)
    if notes:
        print(f"  ({notes})")


def _save(folder: Path, lang: Language, script: CallScript,
          recorder: TurnRecorder, transcript: Transcript, result: SimResult) -> int:
    record = result.record
    if record is None:
        print(f"not recording: the call record of {result.call_sid} was not found",
              file=sys.stderr)
        return 1
    callers = [t for t in record.get("turns", []) if t.get("role") == "caller"]
    seen = transcript.caller_seen[: len(callers)]
    seen += [recorder.ticks] * (len(callers) - len(seen))
    matched = match_turns(recorder.utterances, seen)
    content, wavs = build_script(
        name=folder.name, lang=lang, customer=script.customer, record=record,
        utterances=recorder.utterances, matched=matched, hangup=recorder.hangup,
        description=f"Recorded with ivr softphone on {datetime.now():%Y-%m-%d %H:%M} "
                    f"(call {result.call_sid}).",
    )
    path = write_fixture(folder, content, wavs)
    load_script(path)  # what we wrote must load
    print(f"recorded {len(wavs)} caller turn(s) to {path}; replay with: "
          f"ivr call --script {path}")
    missing = [t.get("text") for t, m in zip(callers, matched, strict=True) if m is None]
    if missing:
        print(f"warning: no recorded audio for caller turn(s) {missing} (e.g. keypad); "
              "the replay will not repeat them", file=sys.stderr)
    return 0
