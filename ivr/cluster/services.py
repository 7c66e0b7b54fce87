"""Debian's ``postgresql`` and ``redis-server`` started as plain child processes on loopback,
each with its own data folder, port and generated password: for ``ivr cluster`` (one machine,
no containers) and the test harness (``tests/harness``).

PostgreSQL refuses to run as root, so as root its programs run as the ``postgres`` user
(``runuser``) on a data folder that user owns. Both listen on 127.0.0.1 only and require a
password (scram-sha-256 / ``requirepass``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ivr.core.errors import ConfigError

PG_USER = "postgres"


def free_port(count: int = 1) -> int:
    """A loopback port free now, with the ``count - 1`` ports above it free too."""
    for _ in range(100):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + count <= 65536 and all(_bindable(p) for p in range(port + 1, port + count)):
            return port
    raise OSError(f"no {count} consecutive free loopback ports")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pg_bin(name: str) -> str:
    override = os.environ.get("IVR_PG_BIN")
    candidates = [Path(override) / name] if override else []
    candidates += [Path(p) for p in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                           key=lambda p: int(Path(p).parts[-3]), reverse=True)]
    for path in candidates:
        if path.is_file():
            return str(path)
    found = shutil.which(name)
    if found is None:
        raise ConfigError(f"PostgreSQL's {name} not found: install Debian's postgresql package "
                          "(scripts/setup.py --for test does) or set IVR_PG_BIN")
    return found


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *argv] if os.geteuid() == 0 else argv


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam(PG_USER)
        os.chown(path, user.pw_uid, user.pw_gid)


def _secret(path: Path) -> str:
    """The password kept in ``path`` (0600), generated on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(value + "\n", encoding="utf-8")
    return value


@dataclass
class LocalPostgres:
    """A PostgreSQL cluster in ``root`` (created on first start), listening on ``port``."""

    root: Path
    port: int = field(default_factory=free_port)
    durable: bool = True  # False (tests): no fsync, faster and lost on a machine crash
    superuser: str = "postgres"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def password(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        return _secret(self.root / "password")

    def url(self, database: str = "postgres") -> str:
        return (f"postgresql://{self.superuser}:{self.password}@127.0.0.1:{self.port}"
                f"/{database}")

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(_as_owner(argv), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(argv[0]).name} failed ({done.returncode}):\n"
                               f"{done.stdout}\n{done.stderr}")
        return done

    def _init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        _chown(self.root)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        _chown(pwfile)
        try:
            self._run([_pg_bin("initdb"), "-D", str(self.data), "-U", self.superuser,
                       "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                       "--locale=C", *([] if self.durable else ["--no-sync"])])
        finally:
            pwfile.unlink()

    def start(self, timeout_s: float = 60.0) -> None:
        if not (self.data / "PG_VERSION").exists():
            self._init()
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1",
                   f"-c unix_socket_directories={self.root}", "-c max_connections=200"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off",
                        "-c full_page_writes=off"]
        self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
                   "-w", "-t", str(int(timeout_s)), "-o", " ".join(options), "start"])

    def running(self) -> bool:
        done = subprocess.run(_as_owner([_pg_bin("pg_ctl"), "-D", str(self.data), "status"]),
                              capture_output=True, check=False)
        return done.returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        env = dict(os.environ, PGPASSWORD=self.password)
        done = subprocess.run(
            [_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.superuser,
             "-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
            capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def ensure_database(self, name: str) -> str:
        """Create ``name`` unless it exists; return its URL."""
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self._run([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                           "stop"])

    def log_tail(self, lines: int = 40) -> str:
        path = self.root / "log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class LocalRedis:
    """A Redis server with its folder in ``root``, on loopback ``port``, password required."""

    root: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def password(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        return _secret(self.root / "password")

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def start(self, timeout_s: float = 20.0) -> None:
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(exe).exists():
            raise ConfigError("redis-server not found: install Debian's redis-server package "
                              "(scripts/setup.py --for test does)")
        self.root.mkdir(parents=True, exist_ok=True)
        conf = self.root / "redis.conf"
        conf.touch(mode=0o600)
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\nprotected-mode yes\n"
            f"requirepass {self.password}\ndir {self.root}\nsave \"\"\nappendonly no\n"
            "daemonize no\nlogfile \"\"\n", encoding="utf-8")
        log = (self.root / "log").open("ab")
        self.proc = subprocess.Popen([exe, str(conf)], stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited ({self.proc.returncode}); see "
                                   f"{self.root / 'log'}")
            if self._ping():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server not answering on port {self.port}")

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                got = b""
                while b"+PONG" not in got and b"-" not in got and len(got) < 256:
                    chunk = sock.recv(256)
                    if not chunk:
                        break
                    got += chunk
                return b"+PONG" in got
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
