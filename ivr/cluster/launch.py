"""Start a topology on this machine for a benchmark: 1..N ``ivr serve`` workers on SQLite or on
PostgreSQL (+ Redis when there are several), each with its own Rasa; wait until all are ready;
stop everything afterwards. Also: which process is which, for per-component CPU figures."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

import psutil

from ivr.cluster.run import worker_env
from ivr.cluster.services import LocalPostgres, LocalRedis, free_port
from ivr.config import Config
from ivr.store.factory import StoreTarget

CUSTOMERS = Path(__file__).resolve().parents[2] / "audio" / "fixtures" / "customers.json"


@dataclass
class Topology:
    workers: int
    store: str  # "sqlite" or "postgresql"

    @property
    def name(self) -> str:
        return f"{self.workers}x-{self.store}"


@dataclass
class Launched:
    topology: Topology
    urls: list[str]
    procs: list[subprocess.Popen[bytes]]
    target: StoreTarget
    postgres_pid: int | None = None
    redis_pid: int | None = None
    logs: list[Path] = field(default_factory=list)

    def components(self) -> dict[str, list[psutil.Process]]:
        """Processes by role: ivr (worker + TTS processes), rasa, actions, postgres, redis."""
        roles: dict[str, list[psutil.Process]] = {k: [] for k in
                                                   ("ivr", "rasa", "actions", "postgres",
                                                    "redis")}
        for proc in self.procs:
            with contextlib.suppress(psutil.Error):
                root = psutil.Process(proc.pid)
                for each in (root, *root.children(recursive=True)):
                    line = " ".join(each.cmdline())
                    role = ("actions" if "run actions" in line or "serve actions" in line else
                            "rasa" if "rasa" in line else "ivr")
                    roles[role].append(each)
        for role, pid in (("postgres", self.postgres_pid), ("redis", self.redis_pid)):
            if pid is not None:
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    roles[role] += [root, *root.children(recursive=True)]
        return roles


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker at {url} exited ({proc.returncode})")
        with contextlib.suppress(URLError, OSError, ValueError), \
                urlopen(f"{url}/readyz", timeout=2) as resp:
            if json.loads(resp.read()).get("ready"):
                return
        time.sleep(1)
    raise RuntimeError(f"worker at {url} not ready after {timeout_s} s")


def _import_customers(config_file: str | None, db: str, env: dict[str, str]) -> None:
    argv = [sys.executable, "-m", "ivr.cli", *(["--config", config_file] if config_file else [])]
    subprocess.run([*argv, "customers", "import", str(CUSTOMERS), "--db", db], check=True,
                   capture_output=True, env=env)


@contextlib.contextmanager
def launch(config: Config, config_file: str | None, topology: Topology,
           ready_timeout_s: float = 600) -> Iterator[Launched]:
    root = Path(tempfile.mkdtemp(prefix=f"ivr-bench-{topology.name}-"))
    root.chmod(0o755)
    pg = LocalPostgres(root / "pg") if topology.store == "postgresql" else None
    redis = LocalRedis(root / "redis") if topology.workers > 1 else None
    procs: list[subprocess.Popen[bytes]] = []
    try:
        store_url, redis_url = "", ""
        if pg is not None:
            pg.start()
            store_url = pg.ensure_database("ivr")
        if redis is not None:
            redis.start()
            redis_url = redis.url(0)
        sqlite = root / "ivr.sqlite3"
        target = StoreTarget.parse(store_url or sqlite)
        # no admission limit: the benchmark looks for where latency breaks, not max_calls
        base_env = {**os.environ, "IVR_STORE_SQLITE_PATH": str(sqlite),
                    "IVR_SERVER_MAX_CALLS": "1000"}
        urls, logs = [], []
        for n in range(1, topology.workers + 1):
            port = free_port()
            env = {**base_env, **worker_env(config, f"w{n}", port, store_url, redis_url, root),
                   "IVR_SERVER_PUBLIC_URL": f"http://127.0.0.1:{port}"}
            if n == 1:
                _import_customers(config_file, store_url or str(sqlite), env)
            argv = [sys.executable, "-m", "ivr.cli",
                    *(["--config", config_file] if config_file else []), "serve"]
            log = root / f"w{n}.log"
            procs.append(subprocess.Popen(argv, env=env, stdout=log.open("wb"),
                                          stderr=subprocess.STDOUT, start_new_session=True))
            urls.append(f"http://127.0.0.1:{port}")
            logs.append(log)
        for url, proc in zip(urls, procs, strict=True):
            _wait_ready(url, proc, ready_timeout_s)
        yield Launched(topology, urls, procs, target,
                       postgres_pid=_postmaster(pg), redis_pid=redis.proc.pid
                       if redis is not None and redis.proc is not None else None, logs=logs)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                proc.kill()
        if redis is not None:
            redis.stop()
        if pg is not None:
            pg.stop()


def _postmaster(pg: LocalPostgres | None) -> int | None:
    if pg is None:
        return None
    pid_file = pg.data / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None
