"""Supervised child processes, with real processes: health, crash/restart, stop, kill."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from ivr.supervisor import Child, ChildSpec, HealthCheck, PartState, Supervisor

# A child that serves GET /health on argv[1]; optional argv[2] = seconds until it crashes.
# It also starts a grandchild (same process group) and writes both pids to $PID_FILE.
SERVER = r'''
import http.server, os, signal, subprocess, sys, threading, time
port = int(sys.argv[1])
crash_after = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open(os.environ["PID_FILE"], "a") as f:
    f.write(f"{os.getpid()} {grandchild.pid} {os.getcwd()} {os.environ.get('GREETING', '')}\n")
print("child says hello", flush=True)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
if crash_after:
    threading.Timer(crash_after, lambda: os._exit(3)).start()
if os.environ.get("NEVER_SERVE"):
    time.sleep(120)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, process group) of a live process, None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[2])


def alive(pid: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")  # a zombie has ended


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = proc_stat(int(entry.name))
            if stat is not None and stat[1] == pgid and stat[0] not in ("Z", "X"):
                members.append(int(entry.name))
    return members


async def eventually(check: Callable[[], bool], within: float, step: float = 0.02) -> None:
    """Poll process state (there is nothing to await for another process's exit)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(step)


class Rig:
    def __init__(self, tmp: Path, http: aiohttp.ClientSession) -> None:
        self.tmp = tmp
        self.http = http
        self.script = tmp / "server.py"
        self.script.write_text(SERVER, encoding="utf-8")
        self.pid_file = tmp / "pids.txt"
        self.port = free_port()
        self.fail_health = False  # fault injection on top of the real check
        self.children: list[Child] = []

    def health(self) -> HealthCheck:
        url = f"http://127.0.0.1:{self.port}/health"

        async def check() -> bool:
            if self.fail_health:
                return False
            try:
                timeout = aiohttp.ClientTimeout(total=0.5)
                async with self.http.get(url, timeout=timeout) as resp:
                    return resp.status == 200
            except (aiohttp.ClientError, TimeoutError):
                return False

        return check

    def spec(self, *args: str, env: dict[str, str] | None = None,
             startup_timeout_s: float = 10.0, name: str = "web",
             argv: list[str] | None = None) -> ChildSpec:
        return ChildSpec(
            name=name,
            argv=argv or [sys.executable, str(self.script), str(self.port), *args],
            health=self.health(),
            cwd=self.tmp,
            env={"PID_FILE": str(self.pid_file), **(env or {})},
            startup_timeout_s=startup_timeout_s,
            health_interval_s=0.2,
        )

    def child(self, spec: ChildSpec) -> Child:
        self.children.append(Child(spec))
        return self.children[-1]

    def pids(self) -> list[tuple[int, int, str, str]]:
        if not self.pid_file.exists():
            return []
        rows = []
        for line in self.pid_file.read_text().splitlines():
            pid, grandchild, cwd, greeting = [*line.split(" "), ""][:4]
            rows.append((int(pid), int(grandchild), cwd, greeting))
        return rows


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async with aiohttp.ClientSession() as http:
        r = Rig(tmp_path, http)
        yield r
        for child in r.children:  # never leave processes behind, even when a test fails
            await child.stop(grace_s=1)


async def test_start_is_up_and_stop_ends_the_whole_group(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    spec = rig.spec(env={"GREETING": "hi"})
    sup = Supervisor([spec])
    rig.children.extend(sup.children.values())
    assert sup.parts() == {"web": "stopped"}
    await asyncio.wait_for(sup.start(wait=True), 30)  # a hang guard, not a speed check
    assert sup.parts() == {"web": "up"}
    child = sup.children["web"]
    assert child.proc is not None and child.restarts == 0
    [(pid, grandchild, cwd, greeting)] = rig.pids()
    assert pid == child.proc.pid
    assert Path(cwd) == rig.tmp and greeting == "hi"  # cwd and env reach the child
    assert proc_stat(pid) is not None and proc_stat(pid)[1] == pid  # type: ignore[index]
    assert sorted(group_members(pid)) == sorted([pid, grandchild])
    await eventually(
        lambda: any("child says hello" in r.getMessage() and r.name == "ivr.child.web"
                    for r in caplog.records), 3)

    await sup.stop()
    assert sup.parts() == {"web": "stopped"}
    assert child.proc.returncode is not None
    await eventually(lambda: not group_members(pid), 3)
    assert not alive(grandchild)


async def test_crash_is_down_then_restarted(rig: Rig) -> None:
    child = rig.child(rig.spec("1.0"))
    await child.start()
    assert await child.wait_up(8)
    assert child.state is PartState.UP
    first = child.proc
    assert first is not None
    await eventually(lambda: child.state is PartState.DOWN, 4)
    assert first.returncode == 3
    assert child.restarts == 1
    assert not await child.wait_up(0.3), "not up while down"
    await eventually(lambda: child.state is PartState.UP and child.proc is not first, 6)
    assert child.restarts == 1
    assert len(rig.pids()) == 2
    await child.stop(grace_s=2)
    assert child.state is PartState.STOPPED


async def test_failing_health_check_marks_down_without_restart(rig: Rig) -> None:
    child = rig.child(rig.spec())
    await child.start()
    assert await child.wait_up(8)
    proc = child.proc
    rig.fail_health = True
    await eventually(lambda: child.state is PartState.DOWN, 3)
    assert child.proc is proc and proc is not None and proc.returncode is None
    rig.fail_health = False
    await eventually(lambda: child.state is PartState.UP, 3)
    assert child.restarts == 0 and child.proc is proc
    await child.stop(grace_s=2)


async def test_child_ignoring_sigterm_is_killed_after_grace(rig: Rig) -> None:
    child = rig.child(rig.spec(env={"IGNORE_TERM": "1"}))
    await child.start()
    assert await child.wait_up(8)
    [(pid, grandchild, _, _)] = rig.pids()
    await asyncio.wait_for(child.stop(grace_s=1.0), 30)
    assert child.state is PartState.STOPPED
    # SIGTERM was ignored, so only the SIGKILL after the grace period ended it
    assert child.proc is not None and child.proc.returncode == -9
    await eventually(lambda: not group_members(pid), 3)
    assert not alive(grandchild)


async def test_startup_timeout_kills_an_unhealthy_child(rig: Rig) -> None:
    child = rig.child(rig.spec(env={"NEVER_SERVE": "1"}, startup_timeout_s=1.0))
    await child.start()
    assert not await child.wait_up(0.8)
    await eventually(lambda: len(rig.pids()) >= 1, 3)
    pid = rig.pids()[0][0]
    await eventually(lambda: not alive(pid), 10)  # killed: it never answered its health check
    await eventually(lambda: child.restarts >= 1, 5)
    assert child.state in (PartState.DOWN, PartState.STARTING)
    assert child.state is not PartState.UP
    await child.stop(grace_s=1)
    assert child.state is PartState.STOPPED
    for row in rig.pids():
        assert not group_members(row[0])


async def test_supervisor_start_returns_when_a_child_never_becomes_healthy(rig: Rig) -> None:
    sup = Supervisor([rig.spec(env={"NEVER_SERVE": "1"}, startup_timeout_s=1.0)])
    rig.children.extend(sup.children.values())
    await asyncio.wait_for(sup.start(wait=True), 30)  # returns although never healthy
    assert sup.parts()["web"] != "up"
    await sup.stop()
    assert sup.parts() == {"web": "stopped"}


async def test_missing_executable_is_down_and_retried(rig: Rig) -> None:
    child = rig.child(rig.spec(argv=[str(rig.tmp / "no-such-program")]))
    await child.start()
    await eventually(lambda: child.state is PartState.DOWN, 2)
    assert child.proc is None
    await child.stop(grace_s=1)
    assert child.state is PartState.STOPPED


async def test_stop_before_start_and_twice_is_harmless(rig: Rig) -> None:
    child = rig.child(rig.spec())
    await child.stop(grace_s=1)
    assert child.state is PartState.STOPPED
    await child.start()
    assert await child.wait_up(8)
    await child.stop(grace_s=1)
    await child.stop(grace_s=1)
    assert child.state is PartState.STOPPED
    assert child.proc is not None
    await eventually(lambda: not group_members(child.proc.pid), 3)  # type: ignore[union-attr]
