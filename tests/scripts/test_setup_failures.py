"""Every set-up or start-up failure ends with one message naming the setting or file and the
fix, never a Python traceback: no espeak-ng (PATH), an unreachable model URL (a loopback port
with nothing listening), a bad model directory, a port in use, no Python 3.11, no root for apt,
a failing tool. The set-up script and ``ivr`` run as subprocesses, as ``make run`` runs them."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
IVR = ROOT / ".venv" / "bin" / "ivr"
SETUP = ROOT / "scripts" / "setup.py"


def load_setup() -> ModuleType:
    spec = importlib.util.spec_from_file_location("setup_script", SETUP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_clean_failure(res: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Non-zero exit, no traceback, and every fragment in what was printed to stderr."""
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "Traceback" not in out, out
    for fragment in fragments:
        assert fragment in res.stderr, f"{fragment!r} not in:\n{out}"
    return res.stderr


def isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env.update(IVR_SERVER_DATA_DIR=str(tmp_path / "data"), **extra)
    return env


def test_no_espeak_ng_on_path_names_the_package(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    dpkg = shutil.which("dpkg-query")
    if dpkg:
        (bin_dir / "dpkg-query").symlink_to(dpkg)
    env = isolated_env(tmp_path, PATH=str(bin_dir))
    res = subprocess.run([sys.executable, str(SETUP), "--for", "run"], env=env,
                         capture_output=True, text=True, timeout=60)
    err = assert_clean_failure(res, "espeak-ng not found on PATH", "apt-get install espeak-ng")
    assert err.strip().splitlines()[-1].startswith("[setup] error: espeak-ng not found")


def _ivr_setup(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = isolated_env(tmp_path, IVR_ASR_EN_MODEL=str(ROOT.parent / "shared/models/tiny-en"),
                       **settings)
    return subprocess.run([str(IVR), "setup", "--skip-train", "--skip-prompts"], env=env,
                          capture_output=True, text=True, timeout=60)


def test_unreachable_model_url_names_the_setting_and_the_offline_config(
        tmp_path: Path) -> None:
    port = closed_port()
    res = _ivr_setup(tmp_path, IVR_ASR_ZH_MODEL=str(tmp_path / "models/vosk-model-small-cn"),
                     IVR_ASR_ZH_MODEL_URL=f"http://127.0.0.1:{port}/vosk-model-small-cn.zip")
    err = assert_clean_failure(res, "setting asr.zh_model", f"127.0.0.1:{port}",
                               "config/tiny-models.toml", "IVR_ASR_ZH_MODEL")
    assert "Connection refused" in err
    assert len(err.strip().splitlines()) == 1  # one message
    assert not (tmp_path / "models/vosk-model-small-cn").exists()


def test_bad_model_directory_names_the_missing_file_and_is_left_alone(tmp_path: Path) -> None:
    bad = tmp_path / "my-model"
    (bad / "conf").mkdir(parents=True)
    (bad / "conf" / "mfcc.conf").write_text("--sample-frequency=16000\n")
    res = _ivr_setup(tmp_path, IVR_ASR_ZH_MODEL=str(bad))
    assert_clean_failure(res, "setting asr.zh_model", "am/final.mdl", str(bad))
    assert (bad / "conf" / "mfcc.conf").is_file()  # the user's directory is not deleted


def test_model_download_shows_bytes_and_rate(tmp_path: Path) -> None:
    """The download path with progress, from a loopback server (a zip of the tiny model)."""
    import http.server
    import threading
    import zipfile

    archive = tmp_path / "m.zip"
    src = ROOT.parent / "shared/models/tiny-zh"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in src.rglob("*"):
            if path.is_file():
                zf.write(path, f"tiny-zh-x/{path.relative_to(src)}")
    handler = type("H", (http.server.SimpleHTTPRequestHandler,), {
        "log_message": lambda *a: None})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: handler(*a, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = tmp_path / "models" / "tiny-zh-x"
        res = _ivr_setup(tmp_path, IVR_ASR_ZH_MODEL=str(target),
                         IVR_ASR_ZH_MODEL_URL=f"http://127.0.0.1:{server.server_port}/m.zip")
    finally:
        server.shutdown()
    assert res.returncode == 0, res.stdout + res.stderr
    assert "zh model download:" in res.stdout and "MB/s" in res.stdout
    assert f"of {archive.stat().st_size / 1e6:.1f} MB" in res.stdout
    assert (target / "am" / "final.mdl").is_file()
    assert "en speech model: present" in res.stdout


def test_port_in_use_stops_serve_at_once_naming_the_setting(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        env = isolated_env(tmp_path, IVR_SERVER_PORT=str(port),
                           IVR_CONFIG=str(ROOT / "config" / "test.toml"))
        res = subprocess.run([str(IVR), "serve"], env=env, capture_output=True, text=True,
                             timeout=60)
    err = assert_clean_failure(res, f"port {port}", "setting server.port", "IVR_SERVER_PORT=")
    assert err.strip().splitlines()[-1].startswith("ivr: error:")


def test_wrong_python_names_python311(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    setup = load_setup()
    monkeypatch.setattr(setup.sys, "version_info", (3, 9, 18, "final", 0))
    monkeypatch.setattr(setup.shutil, "which", lambda name: None)
    monkeypatch.setattr(setup.sys, "argv", ["setup.py"])
    assert setup.entry() == 1
    err = capsys.readouterr().err
    assert "Python 3.11 is required" in err and "PYTHON=/path/to/python3.11" in err
    assert "Traceback" not in err


def test_no_root_prints_the_apt_command(monkeypatch: pytest.MonkeyPatch) -> None:
    setup = load_setup()
    monkeypatch.setattr(setup, "missing_debs", lambda pkgs: ["espeak-ng", "libportaudio2"])
    monkeypatch.setattr(setup.os, "geteuid", lambda: 1000)
    with pytest.raises(setup.SetupFailed) as info:
        setup.ensure_debs(["espeak-ng", "libespeak-ng1", "libportaudio2"])
    assert "sudo apt-get install -y --no-install-recommends espeak-ng libportaudio2" in str(
        info.value)


def test_a_failing_tool_shows_the_log_tail_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    setup = load_setup()
    monkeypatch.setattr(setup, "LOG", tmp_path / "setup.log")
    cmd = [sys.executable, "-c", "import sys; print('no matching distribution'); sys.exit(3)"]
    with pytest.raises(setup.SetupFailed) as info:
        setup.run_logged(cmd, "pip install into .venv", "Check the package index.")
    text = str(info.value)
    assert "pip install into .venv failed (exit 3)" in text
    assert "no matching distribution" in text and str(tmp_path / "setup.log") in text


def test_an_unexpected_error_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    setup = load_setup()

    def boom() -> int:
        raise ValueError("something odd")

    monkeypatch.setattr(setup, "main", boom)
    monkeypatch.delenv("IVR_SETUP_DEBUG", raising=False)
    assert setup.entry() == 1
    err = capsys.readouterr().err
    assert "unexpected ValueError: something odd" in err and "IVR_SETUP_DEBUG=1" in err


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, str(SETUP), "--config", str(tmp_path / "nope.toml")],
                         capture_output=True, text=True, timeout=60)
    assert_clean_failure(res, "nope.toml does not exist")
