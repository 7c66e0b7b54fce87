"""``ivr doctor``: each check finds what is wrong on purpose-broken settings and names the fix.
The speech-model checks load the real tiny models and ask them for words."""

from __future__ import annotations

import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ivr.config import ROOT, Config, load_config
from ivr.doctor import Finding, Status, render, run_doctor
from ivr.doctor.models import check_rasa_model, check_speech_models
from ivr.doctor.network import check_ports_free, check_provider, check_public_url
from ivr.doctor.system import check_vad
from ivr.rasa_train import model_inputs
from ivr.setup_tasks import Stamp, tree_digest

MODELS = ROOT.parent / "shared" / "models"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def config_for(tmp_path: Path, **env: str) -> Config:
    base = {"IVR_SERVER_DATA_DIR": str(tmp_path), "IVR_ASR_ZH_MODEL": str(MODELS / "tiny-zh"),
            "IVR_ASR_EN_MODEL": str(MODELS / "tiny-en")}
    return load_config(None, {**base, **env}, local_secrets=True, generate_secrets=True)


def by_area(findings: list[Finding], area: str) -> list[Finding]:
    return [f for f in findings if f.area == area]


def test_tiny_models_load_and_know_the_answers(tmp_path: Path) -> None:
    findings = check_speech_models(config_for(tmp_path))
    assert all(f.status is Status.OK for f in findings), render(findings)
    assert len(by_area(findings, "zh vocabulary")) == 1


def test_an_english_model_in_the_chinese_slot_is_caught_by_its_vocabulary(
        tmp_path: Path) -> None:
    findings = check_speech_models(config_for(tmp_path, IVR_ASR_ZH_MODEL=str(MODELS / "tiny-en")))
    [vocab] = by_area(findings, "zh vocabulary")
    assert vocab.status is Status.FAIL
    assert "asr.zh_model" in vocab.fix


def test_a_model_directory_missing_files_names_the_setting(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(MODELS / "tiny-en", bad, ignore=shutil.ignore_patterns("final.mdl"))
    findings = check_speech_models(config_for(tmp_path, IVR_ASR_EN_MODEL=str(bad)))
    [model] = by_area(findings, "en model")
    assert model.status is Status.FAIL
    assert "am/final.mdl" in model.detail and "asr.en_model" in model.detail
    assert "tiny-models.toml" in model.fix


def test_rasa_model_freshness_uses_the_set_up_hash(tmp_path: Path) -> None:
    model = tmp_path / "ivr.tar.gz"
    config = config_for(tmp_path, IVR_RASA_MODEL=str(model))
    [missing] = check_rasa_model(config)
    assert missing.status is Status.FAIL and "rasa.model" in missing.detail
    model.write_bytes(b"x")
    [stale] = check_rasa_model(config)
    assert stale.status is Status.WARN
    Stamp(config, "rasa-train").save(tree_digest(model_inputs(config),
                                                 root=config.rasa.project_dir))
    [fresh] = check_rasa_model(config)
    assert fresh.status is Status.OK


def test_vad_without_hangover_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (found,) = check_vad(config_for(tmp_path))
    assert found.status is Status.OK and "without its hangover" in found.detail
    (kept,) = check_vad(config_for(tmp_path, IVR_ASR_VAD_HANGOVER="true"))
    assert kept.status is Status.OK and "with its hangover" in kept.detail
    monkeypatch.setattr("ivr.audio.vad._core_functions", lambda: None)  # another build
    (missing,) = check_vad(config_for(tmp_path))
    assert missing.status is Status.WARN and "60-100 ms later" in missing.detail


def test_a_port_taken_by_another_program_is_a_problem(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        config = config_for(tmp_path, IVR_SERVER_PORT=str(port),
                            IVR_RASA_URL=f"http://127.0.0.1:{closed_port()}",
                            IVR_RASA_ACTIONS_PORT=str(closed_port()))
        findings = check_ports_free(config)
    assert [f.status for f in findings] == [Status.FAIL]
    assert "server.port" in findings[0].detail and "IVR_SERVER_PORT=" in findings[0].fix


def test_local_mode_provider_findings(tmp_path: Path) -> None:
    findings = check_provider(config_for(tmp_path))
    text = render(findings)
    assert "mode 600" in text
    assert "generated local token" in text and "IVR_TWILIO_AUTH_TOKEN" in text
    assert "account_sid not set" in text
    assert not any(f.status is Status.FAIL for f in findings)


def test_secrets_file_readable_by_others_is_a_problem(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    (tmp_path / "secrets.toml").chmod(0o644)
    [secrets] = by_area(check_provider(config), "secrets file")
    assert secrets.status is Status.FAIL and "chmod 600" in secrets.fix


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_public_url_reachability(tmp_path: Path) -> None:
    dead = closed_port()
    [down] = check_public_url(config_for(tmp_path, IVR_SERVER_PUBLIC_URL=f"http://127.0.0.1:{dead}"))
    assert down.status is Status.WARN and "nothing answers" in down.detail
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        [up] = check_public_url(config_for(tmp_path, IVR_SERVER_PUBLIC_URL=url))
    finally:
        server.shutdown()
    assert up.status is Status.OK and "answers" in up.detail


@pytest.mark.timeout(120)
def test_the_whole_doctor_renders_a_summary(tmp_path: Path) -> None:
    text = render(run_doctor(config_for(tmp_path)))
    assert text.splitlines()[-1].endswith("problems")
    for area in ("espeak-ng", ".venv", "rasa venv", "zh model", "ports", "public URL"):
        assert f"  {area}:" in text or f" {area}:" in text
