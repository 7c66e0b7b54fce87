"""``ivr bench --serve``: a private ``ivr serve`` (own ports, data directory and customers)
for the length of a benchmark, so the figures come from one command."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from ivr.cluster.services import free_port
from ivr.config import ROOT

CUSTOMERS = ROOT / "audio" / "fixtures" / "customers.json"


async def _ready(url: str, proc: asyncio.subprocess.Process, timeout_s: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with aiohttp.ClientSession() as http:
        while asyncio.get_running_loop().time() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"ivr serve exited with {proc.returncode}")
            with contextlib.suppress(aiohttp.ClientError, ValueError):
                async with http.get(f"{url}/readyz") as resp:
                    if (await resp.json()).get("ready"):
                        return
            await asyncio.sleep(1)
    raise RuntimeError(f"ivr serve not ready after {timeout_s} s")


def _environment(port: int, data: Path, config_file: str | None,
                 rasa_servers: int = 1) -> dict[str, str]:
    env = {**os.environ, "IVR_SERVER_PORT": str(port),
           "IVR_SERVER_PUBLIC_URL": f"http://127.0.0.1:{port}",
           "IVR_SERVER_DATA_DIR": str(data), "IVR_STORE_SQLITE_PATH": str(data / "ivr.sqlite3"),
           "IVR_RASA_URL": f"http://127.0.0.1:{free_port(rasa_servers)}",
           "IVR_RASA_ACTIONS_PORT": str(free_port())}
    if config_file:
        env["IVR_CONFIG"] = os.path.abspath(config_file)
    return env


def asterisk_environment(password: str) -> dict[str, str]:
    """Settings for a private server whose PBX is the Asterisk emulator on a free port."""
    return {"IVR_ASTERISK_ENABLED": "true",
            "IVR_ASTERISK_ARI_URL": f"http://127.0.0.1:{free_port()}/ari",
            "IVR_ASTERISK_ARI_PASSWORD": password,
            "IVR_ASTERISK_AUDIOSOCKET_PORT": str(free_port())}


@contextlib.asynccontextmanager
async def served(config_file: str | None, ready_timeout_s: float = 400,
                 extra_env: dict[str, str] | None = None,
                 rasa_servers: int = 1) -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as tmp:
        data = Path(tmp)
        env = {**_environment(port, data, config_file, rasa_servers), **(extra_env or {})}
        ivr = [sys.executable, "-m", "ivr.cli"]
        load = await asyncio.create_subprocess_exec(
            *ivr, "customers", "import", str(CUSTOMERS), "--db", env["IVR_STORE_SQLITE_PATH"],
            env=env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL)
        await load.wait()
        log = (data / "serve.log").open("wb")
        proc = await asyncio.create_subprocess_exec(*ivr, "serve", env=env, cwd=ROOT,
                                                    stdout=log, stderr=log)
        try:
            await _ready(url, proc, ready_timeout_s)
            yield url, proc.pid
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 60)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
            log.close()
