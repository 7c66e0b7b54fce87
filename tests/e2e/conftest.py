"""End-to-end fixtures: the real ``ivr serve`` (IVR + Rasa server + action server) on loopback,
driven by the phone simulator. One server per test session; it takes ~30 s to become ready."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests

from tests.e2e.asterisk_thread import ARI_PASSWORD, ARI_USER, EmulatorThread
from tests.e2e.mail_thread import MailSinkThread

ROOT = Path(__file__).resolve().parents[2]
IVR = ROOT / ".venv" / "bin" / "ivr"
TEST_CONFIG = ROOT / "config" / "test.toml"
CUSTOMERS = ROOT / "audio" / "fixtures" / "customers.json"
AUTH_TOKEN = "test-auth-token-not-a-secret"
API_TOKEN = "test-api-token-not-a-secret"  # server.api_token in config/test.toml
API_HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}
READY_TIMEOUT_S = 400


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    data: Path
    rasa_url: str
    env: dict[str, str]

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def ready(self) -> dict[str, object]:
        try:
            resp = requests.get(f"{self.url}/readyz", timeout=2)
            body: dict[str, object] = resp.json()
            return body
        except (requests.RequestException, ValueError):
            return {"ready": False}

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ivr serve exited early:\n{self.log_tail()}")
            if self.ready().get("ready"):
                return
            time.sleep(1)
        raise RuntimeError(f"ivr serve not ready after {timeout_s} s:\n{self.log_tail()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return int(self.proc.returncode)


def start_server(tmp: Path, *, port: int | None = None, **overrides: str) -> Server:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        IVR_CONFIG=str(TEST_CONFIG),
        IVR_SERVER_PORT=str(port),
        IVR_SERVER_PUBLIC_URL=url,
        IVR_SERVER_DATA_DIR=str(tmp),
        IVR_STORE_SQLITE_PATH=str(tmp / "ivr.sqlite3"),
        IVR_RASA_URL=f"http://127.0.0.1:{free_port()}",
        IVR_RASA_ACTIONS_PORT=str(free_port()),
        IVR_ASR_NO_INPUT_MS="2500",
        IVR_AGENTS_MAX_WAIT_S="8",
        # Fixed so that a second IVR can use the first one's Rasa (rasa.managed = false).
        IVR_RASA_AUTH_TOKEN="test-rasa-token-not-a-secret",
        IVR_RASA_ACTIONS_TOKEN="test-actions-token-not-a-secret",
    )
    env.update(overrides)
    db = env.get("IVR_STORE_URL") or env["IVR_STORE_SQLITE_PATH"]
    subprocess.run([str(IVR), "customers", "import", str(CUSTOMERS), "--db", db],
                   check=True, capture_output=True, env=env)
    log = tmp / "serve.log"
    proc = subprocess.Popen([str(IVR), "serve"], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    server = Server(url, proc, log, tmp, env["IVR_RASA_URL"], env)
    try:
        server.wait_ready()
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def asterisk() -> Iterator[EmulatorThread]:
    """The session's PBX: an Asterisk emulator the server's Asterisk adapter connects to."""
    emu = EmulatorThread()
    emu.start()
    yield emu
    emu.stop()


def asterisk_env(emu: EmulatorThread) -> dict[str, str]:
    return {"IVR_ASTERISK_ENABLED": "true", "IVR_ASTERISK_ARI_URL": emu.url,
            "IVR_ASTERISK_ARI_USER": ARI_USER, "IVR_ASTERISK_ARI_PASSWORD": ARI_PASSWORD,
            "IVR_ASTERISK_AUDIOSOCKET_PORT": str(free_port())}


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailSinkThread]:
    """The session server's SMTP server: mail it sends stays here (tests read it)."""
    sink = MailSinkThread()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, asterisk: EmulatorThread,
           mail_sink: MailSinkThread) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("ivr-e2e"), **asterisk_env(asterisk),
                 **mail_sink.env()) as srv:
        yield srv


@contextlib.contextmanager
def serving(tmp: Path, **overrides: str) -> Iterator[Server]:
    """A started server for the length of the block; then a clean shutdown (exit code 0, no
    child process left running) is part of the test."""
    srv = start_server(tmp, **overrides)
    children = psutil.Process(srv.proc.pid).children(recursive=True)
    yield srv
    code = srv.stop()
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert code == 0, f"ivr serve exit code {code}:\n{srv.log_tail()}"
    assert not alive, f"child processes left running after shutdown: {alive}"


class TcpProxy:
    """A loopback TCP forwarder whose ``stop()`` cuts every connection (fault injection)."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._conns: list[socket.socket] = []
        self._running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self._running:
                client.close()
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self._running = False
        self.listener.close()
        for sock in self._conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass
