"""Rasa training for set-up: stage narration from real ``rasa train`` output lines, the input
list behind the cache key, and reuse of a model trained from the same inputs (no training)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ivr import rasa_train
from ivr.config import Config, load_config
from ivr.setup_tasks import DownloadMeter, Stamp, train_rasa, tree_digest

# Lines as Rasa 3.6 prints them (log lines, tqdm bars split on carriage returns).
OUTPUT = (
    b"2025-01-01 INFO rasa.engine.training.hooks - Restored component 'WhitespaceTokenizer' "
    b"from cache.\n"
    b"2025-01-01 INFO rasa.engine.training.hooks - Starting to train component "
    b"'DIETClassifier'.\n"
    b"Epochs:   0%|          | 0/100 [00:00<?, ?it/s]\rEpochs:  25%|##5       | 25/100\r"
    b"Epochs:  26%|##6       | 26/100\rEpochs:  50%|#####     | 50/100\r"
    b"Epochs: 100%|##########| 100/100\n"
    b"INFO rasa.engine.training.hooks - Finished training component 'DIETClassifier'.\n"
    b"Your Rasa model is trained and saved at 'models/ivr.tar.gz'.\n"
)


def test_stages_from_rasa_output() -> None:
    chunks = [OUTPUT[i:i + 37] for i in range(0, len(OUTPUT), 37)]  # arbitrary pipe reads
    stages = list(rasa_train.stages(rasa_train._split_output(iter(chunks))))
    assert stages == [
        "restored WhitespaceTokenizer",
        "training DIETClassifier",
        "training DIETClassifier (50% of epochs)",
        "training DIETClassifier (100% of epochs)",
        "saving the model",
    ]


def config_for(tmp_path: Path) -> Config:
    return load_config(None, {"IVR_SERVER_DATA_DIR": str(tmp_path / "data"),
                              "IVR_SERVER_CACHE_DIR": str(tmp_path / "cache"),
                              "IVR_RASA_MODEL": str(tmp_path / "models" / "ivr.tar.gz"),
                              "IVR_RASA_VENV": str(tmp_path / "no-venv"),
                              "IVR_TWILIO_AUTH_TOKEN": "t"})


def test_model_inputs_cover_what_training_reads() -> None:
    config = load_config(None, {"IVR_TWILIO_AUTH_TOKEN": "t"})
    project = config.rasa.project_dir
    names = {p.relative_to(project).as_posix() for p in rasa_train.model_inputs(config)
             if p.is_relative_to(project)}
    assert {"config.yml", "domain.yml", "requirements.lock"} <= names
    assert any(n.startswith("data/") for n in names)
    assert not any(n.startswith(("actions/", "tests/", "models/")) for n in names)


def test_a_cached_model_is_reused_instead_of_training(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = config_for(tmp_path)
    digest = tree_digest(rasa_train.model_inputs(config), root=config.rasa.project_dir)
    cached = rasa_train.cached_model(config.server.cache_dir, digest)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"trained elsewhere")
    assert train_rasa(config, force=False) is True  # no rasa in IVR_RASA_VENV: not trained
    assert config.rasa.model.read_bytes() == b"trained elsewhere"
    assert "reused a model trained from the same inputs" in capsys.readouterr().out
    assert Stamp(config, "rasa-train").fresh(digest)
    assert train_rasa(config, force=False) is False
    assert "up to date" in capsys.readouterr().out


def test_without_a_cached_model_training_needs_the_rasa_venv(tmp_path: Path) -> None:
    from ivr.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"rasa\.venv"):
        train_rasa(config_for(tmp_path), force=False)


def test_download_meter_prints_bytes_and_rate_about_once_a_second() -> None:
    now = [0.0]
    said: list[str] = []
    meter = DownloadMeter("zh model download", clock=lambda: now[0], say=said.append)
    for step in range(1, 11):
        now[0] = step * 0.4
        meter(step * 4_000_000, 40_000_000)
    assert len(said) == 4  # at 1.2 s, 2.4 s, 3.6 s and the last block
    assert said[0] == "zh model download: 12.0 of 40.0 MB (10.0 MB/s)"
    assert said[-1].startswith("zh model download: 40.0 of 40.0 MB")


def test_cache_dir_defaults_per_user() -> None:
    config = load_config(None, {"IVR_TWILIO_AUTH_TOKEN": "t"})
    expected = Path(os.environ.get("XDG_CACHE_HOME") or Path("~/.cache").expanduser()) / "ivr"
    assert config.server.cache_dir == expected
