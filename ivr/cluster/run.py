"""``ivr cluster run``: N workers, PostgreSQL and Redis on one machine (``make run-cluster``).

PostgreSQL and Redis are Debian's binaries started as child processes with their data under
``<data_dir>/cluster`` (passwords generated into 0600 files there), listening on loopback.
Each worker is an ``ivr serve`` with its own port, its own Rasa and action server (on the
shared tracker and lock stores) and the settings a worker on another machine would get from
its environment: ``IVR_STORE_URL``, ``IVR_CLUSTER_REDIS_URL``, ``IVR_CLUSTER_WORKER_ID``,
``IVR_SERVER_PORT``, ``IVR_SERVER_PUBLIC_URL``/``IVR_CLUSTER_WORKER_URL``. Ctrl-C stops the
workers (their calls end cleanly), then Redis and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ivr.cluster.services import LocalPostgres, LocalRedis, free_port
from ivr.config import Config
from ivr.secrets import SECRET_SETTINGS

DATABASE = "ivr"


@dataclass
class Worker:
    name: str
    port: int
    proc: subprocess.Popen[bytes]


def worker_env(config: Config, name: str, port: int, store_url: str, redis_url: str,
               data: Path, *, own_rasa: bool = True) -> dict[str, str]:
    """The environment that makes an ``ivr serve`` worker ``name`` of the cluster."""
    url = f"http://127.0.0.1:{port}"
    env = {
        "IVR_STORE_URL": store_url, "IVR_CLUSTER_REDIS_URL": redis_url,
        "IVR_CLUSTER_WORKER_ID": name, "IVR_SERVER_PORT": str(port),
        "IVR_CLUSTER_WORKER_URL": url, "IVR_SERVER_DATA_DIR": str(data / name),
    }
    # one set of secrets for every worker: the installation's (its secrets file or settings).
    # Above all the server key: ID digits hashed on one worker must match on every other.
    for setting in SECRET_SETTINGS:
        section, key = setting.name.split(".")
        value = getattr(getattr(config, section), key)
        if value:
            env[setting.env_name] = value
    if "IVR_SERVER_PUBLIC_URL" not in os.environ:
        env["IVR_SERVER_PUBLIC_URL"] = url  # no load balancer: each worker is reached directly
    if own_rasa:
        env["IVR_RASA_URL"] = f"http://127.0.0.1:{free_port(config.rasa.servers)}"
        env["IVR_RASA_ACTIONS_PORT"] = str(free_port())
    return env


def start_services(config: Config) -> tuple[LocalPostgres, LocalRedis, str, str]:
    root = config.server.data_dir / "cluster"
    pg = LocalPostgres(root / "pg")
    redis = LocalRedis(root / "redis")
    pg.start()
    try:
        store_url = pg.ensure_database(DATABASE)
        redis.start()
    except BaseException:
        pg.stop()
        raise
    return pg, redis, store_url, redis.url(0)


def run_cluster(config: Config, config_file: str | None, workers: int, base_port: int) -> int:
    pg, redis, store_url, redis_url = start_services(config)
    print(f"ivr cluster: PostgreSQL on 127.0.0.1:{pg.port}, Redis on 127.0.0.1:{redis.port}",
          flush=True)
    data = config.server.data_dir / "cluster"
    (data / "services.json").write_text(json.dumps({"postgres_port": pg.port,
                                                    "redis_port": redis.port}) + "\n")
    running: list[Worker] = []
    stop = {"now": False}

    def on_signal(_sig: int, _frame: object) -> None:
        stop["now"] = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        for n in range(1, workers + 1):
            name, port = f"w{n}", base_port + n - 1
            env = {**os.environ, **worker_env(config, name, port, store_url, redis_url, data)}
            argv = [sys.executable, "-m", "ivr.cli"]
            argv += ["--config", config_file] if config_file else []
            running.append(Worker(name, port, subprocess.Popen([*argv, "serve"], env=env)))
            print(f"ivr cluster: worker {name} on http://127.0.0.1:{port}", flush=True)
        while not stop["now"] and all(w.proc.poll() is None for w in running):
            time.sleep(0.5)
        for worker in running:
            if worker.proc.poll() is not None and not stop["now"]:
                print(f"ivr cluster: worker {worker.name} exited ({worker.proc.returncode});"
                      " the others took over its calls", flush=True)
        while not stop["now"] and any(w.proc.poll() is None for w in running):
            time.sleep(0.5)
    finally:
        for worker in running:
            if worker.proc.poll() is None:
                worker.proc.send_signal(signal.SIGTERM)
        for worker in running:
            try:
                worker.proc.wait(90)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
        redis.stop()
        pg.stop()
        print("ivr cluster: stopped", flush=True)
    return 0


async def print_status(config: Config) -> int:
    from ivr.cluster.bus import Bus
    from ivr.cluster.members import Membership, WorkerStatus

    url = config.cluster.redis_url or _local_redis_url(config)
    if not url:
        print("cluster.redis_url is not set and no `ivr cluster run` here: a single worker",
              file=sys.stderr)
        return 1
    bus = Bus.from_url(url)

    async def nothing(_worker: str) -> None:
        return None

    members = Membership(bus, "", lambda: WorkerStatus("", "", 0, 0), heartbeat_s=1,
                         dead_after_s=3, on_dead=nothing)
    try:
        for status in await members.workers():
            print(f"{status.worker}\t{status.url}\tcalls {status.active}/{status.max_calls}"
                  f"\tfree {status.free}")
        for name in await members.dead():
            print(f"{name}\t(no heartbeat: dead, not yet taken over)")
    finally:
        await bus.redis.aclose()
    return 0


def _local_redis_url(config: Config) -> str:
    """The Redis of the ``ivr cluster run`` on this machine, if one has run here."""
    root = config.server.data_dir / "cluster"
    try:
        port = int(json.loads((root / "services.json").read_text())["redis_port"])
    except (OSError, ValueError, KeyError):
        return ""
    return LocalRedis(root / "redis", port=port).url(0)
