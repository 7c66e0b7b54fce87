"""``ivr bench``: figures that need the real clock, written to a results file.

- calls (default): N simulated calls at once against a running server (or one started with
  ``--serve``): answer → first greeting audio, turn latency by question type (the caller's
  last voiced frame → the first bot audio frame, endpointing included, measured by the
  simulated phone), late frames on both sides, CPU and memory of the server's processes;
- ``--tts``: the speech synthesizer's worker start-up and per-sentence render times, and how
  long the event loop stalls while 24 sentences render at once.
"""

from __future__ import annotations

import argparse

from ivr.config import Config


async def run_bench(args: argparse.Namespace, config: Config) -> int:
    if getattr(args, "tts", False):
        from ivr.bench.tts import run_tts_bench

        return await run_tts_bench(args, config)
    from ivr.bench.calls import run_call_bench

    return await run_call_bench(args, config)
