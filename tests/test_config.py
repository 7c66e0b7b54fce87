"""Settings: TOML file + ``IVR_<SECTION>_<KEY>`` environment overrides, validated and frozen."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ivr.config import ROOT, AsrConfig, Config, load_config
from ivr.core.errors import ConfigError, ErrorCode
from ivr.core.types import Language

# The smallest environment that passes validation without a file.
OK_ENV = {"IVR_TWILIO_AUTH_TOKEN": "secret"}


def write(tmp_path: Path, text: str, name: str = "ivr.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, env if env is not None else dict(OK_ENV))
    assert info.value.code is ErrorCode.CONFIG_INVALID
    return str(info.value)


def test_defaults_without_file() -> None:
    config = load_config(None, OK_ENV)
    assert config == Config(twilio=dataclasses.replace(Config().twilio, auth_token="secret"))
    assert config.server.port == 8080
    assert config.call.default_language is Language.ZH
    assert config.rasa.project_dir == ROOT / "rasa_project"


def test_toml_values_are_read_and_typed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[server]
host = "0.0.0.0"
port = 9000
public_url = "https://ivr.example.com"
api_token = "tok"
[twilio]
auth_token = "abc"
[rasa]
managed = false
timeout_s = 2
[asr]
vad_aggressiveness = 3
vad_hangover = true
[tts]
volume = 0.5
[call]
default_language = "en"
""",
    )
    config = load_config(path, {})
    assert config.server.host == "0.0.0.0"
    assert config.server.port == 9000 and isinstance(config.server.port, int)
    assert config.server.public_url == "https://ivr.example.com"
    assert config.twilio.auth_token == "abc"
    assert config.rasa.managed is False
    assert config.rasa.timeout_s == 2.0 and isinstance(config.rasa.timeout_s, float)
    assert config.asr.vad_aggressiveness == 3
    assert config.asr.vad_hangover is True and AsrConfig().vad_hangover is False
    assert config.tts.volume == 0.5
    assert config.call.default_language is Language.EN
    # Untouched settings keep their defaults.
    assert config.asr.end_silence_ms == 450


def test_ivr_config_env_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[twilio]\nauth_token = "from-file"\n[server]\nport = 8123\n')
    config = load_config(None, {"IVR_CONFIG": str(path)})
    assert config.twilio.auth_token == "from-file"
    assert config.server.port == 8123


def test_env_overrides_file_and_is_coerced(tmp_path: Path) -> None:
    path = write(tmp_path, '[twilio]\nauth_token = "a"\n[server]\nport = 8123\n')
    env = {
        "IVR_SERVER_PORT": "9100",
        "IVR_TWILIO_AUTH_TOKEN": "from-env",
        "IVR_RASA_MANAGED": "off",
        "IVR_TWILIO_INSECURE_SKIP_SIGNATURE": "Yes",
        "IVR_RASA_TIMEOUT_S": "0.75",
        "IVR_CALL_DEFAULT_LANGUAGE": "en",
        "IVR_SERVER_DATA_DIR": "/srv/ivr",
    }
    config = load_config(path, env)
    assert config.server.port == 9100
    assert config.twilio.auth_token == "from-env"
    assert config.rasa.managed is False
    assert config.twilio.insecure_skip_signature is True
    assert config.rasa.timeout_s == 0.75
    assert config.call.default_language is Language.EN
    assert config.server.data_dir == Path("/srv/ivr")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", True), ("true", True), ("TRUE", True), (" on ", True), ("yes", True),
     ("0", False), ("false", False), ("No", False), ("off", False)],
)
def test_bool_spellings(text: str, expected: bool) -> None:
    config = load_config(None, {**OK_ENV, "IVR_RASA_MANAGED": text})
    assert config.rasa.managed is expected


def test_relative_paths_resolve_against_the_config_files_folder(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    conf_dir = tmp_path / "etc" / "ivr"
    conf_dir.mkdir(parents=True)
    path = write(
        conf_dir,
        '[twilio]\nauth_token = "x"\n'
        '[server]\ndata_dir = "data"\n'
        '[store]\nsqlite_path = "../db/ivr.sqlite3"\n'
        '[asr]\nzh_model = "/abs/zh"\n',
    )
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)  # the working directory must not matter
    config = load_config(path, {})
    assert config.server.data_dir == conf_dir / "data"
    assert config.store.sqlite_path == tmp_path / "etc" / "db" / "ivr.sqlite3"
    assert config.asr.zh_model == Path("/abs/zh")
    assert config.model_dir(Language.ZH) == Path("/abs/zh")
    assert config.model_dir(Language.EN) == config.asr.en_model


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    config = load_config(None, {**OK_ENV, "IVR_TTS_CACHE_DIR": "~/prompts"})
    assert config.tts.cache_dir == tmp_path / "prompts"


def test_config_is_frozen() -> None:
    config = load_config(None, OK_ENV)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server.port = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server = config.server  # type: ignore[misc]


# ------------------------------------------------------------------------------------ errors


def test_missing_auth_token_names_the_setting() -> None:
    message = config_error(None, {})
    assert "twilio.auth_token" in message
    assert "IVR_TWILIO_AUTH_TOKEN" in message
    assert "secrets.toml" in message


def test_insecure_skip_signature_allows_no_token() -> None:
    config = load_config(None, {"IVR_TWILIO_INSECURE_SKIP_SIGNATURE": "true"})
    assert config.twilio.auth_token == ""
    assert config.twilio.insecure_skip_signature is True


def test_unknown_key_names_the_setting(tmp_path: Path) -> None:
    path = write(tmp_path, '[twilio]\nauth_token = "x"\n[server]\nprot = 80\n')
    assert "server.prot" in config_error(path, {})


def test_unknown_section_names_the_section(tmp_path: Path) -> None:
    path = write(tmp_path, '[twilio]\nauth_token = "x"\n[sever]\nport = 80\n')
    assert "[sever]" in config_error(path, {})


def test_section_that_is_not_a_table_names_the_section(tmp_path: Path) -> None:
    path = write(tmp_path, 'server = 5\n[twilio]\nauth_token = "x"\n')
    assert "server" in config_error(path, {})


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"IVR_RASA_MANAGED": "maybe"}, "IVR_RASA_MANAGED"),
        ({"IVR_SERVER_PORT": "eighty"}, "IVR_SERVER_PORT"),
        ({"IVR_SERVER_PORT": ""}, "IVR_SERVER_PORT"),
        ({"IVR_ASR_THREADS": "1.5"}, "IVR_ASR_THREADS"),
        ({"IVR_RASA_TIMEOUT_S": "soon"}, "IVR_RASA_TIMEOUT_S"),
        ({"IVR_CALL_DEFAULT_LANGUAGE": "fr"}, "IVR_CALL_DEFAULT_LANGUAGE"),
    ],
)
def test_bad_env_value_names_the_variable(env: dict[str, str], name: str) -> None:
    message = config_error(None, {**OK_ENV, **env})
    assert name in message
    assert repr(env[name]) in message


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("[rasa]\nmanaged = \"sometimes\"", "rasa.managed"),
        ("[rasa]\nmanaged = 2", "rasa.managed"),
        ("[server]\nport = \"http\"", "server.port"),
        ("[server]\nport = true", "server.port"),
        ("[server]\nport = 80.5", "server.port"),
        ("[server]\nhost = [1, 2]", "server.host"),
        ("[call]\ndefault_language = \"de\"", "call.default_language"),
    ],
)
def test_bad_toml_value_names_the_setting(tmp_path: Path, line: str, name: str) -> None:
    path = write(tmp_path, f'{line}\n[twilio]\nauth_token = "x"\n')
    assert name in config_error(path, {})


@pytest.mark.parametrize(
    "url", ["ivr.example.com", "ftp://ivr.example.com", "https://", "/relative/path", ""]
)
def test_bad_public_url_names_the_setting(url: str) -> None:
    message = config_error(None, {**OK_ENV, "IVR_SERVER_PUBLIC_URL": url})
    assert "server.public_url" in message


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"IVR_SERVER_PORT": "0"}, "server.port"),
        ({"IVR_SERVER_PORT": "70000"}, "server.port"),
        ({"IVR_ASR_VAD_AGGRESSIVENESS": "4"}, "asr.vad_aggressiveness"),
        ({"IVR_CAMPAIGNS_LINE_GRACE_S": "0"}, "campaigns.line_grace_s"),
        ({"IVR_CAMPAIGNS_STALE_AFTER_S": "-1"}, "campaigns.stale_after_s"),
        ({"IVR_ASR_END_SILENCE_MS": "0"}, "asr.end_silence_ms"),
        ({"IVR_ASR_NO_INPUT_MS": "-5"}, "asr.no_input_ms"),
        ({"IVR_ASR_THREADS": "0"}, "asr.threads"),
        ({"IVR_TTS_WORKERS": "0"}, "tts.workers"),
        ({"IVR_RASA_TIMEOUT_S": "0"}, "rasa.timeout_s"),
        ({"IVR_RASA_URL": "localhost:5005"}, "rasa.url"),
    ],
)
def test_cross_field_validation_names_the_setting(env: dict[str, str], name: str) -> None:
    assert name in config_error(None, {**OK_ENV, **env})


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    message = config_error(missing, {})
    assert str(missing) in message
    message = config_error(None, {"IVR_CONFIG": str(missing)})
    assert "IVR_CONFIG" in message


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[server\nport = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, {})
    assert str(path) in str(info.value)
    assert info.value.__cause__ is not None


def test_store_and_cluster_settings() -> None:
    env = {"IVR_TWILIO_AUTH_TOKEN": "t", "IVR_STORE_URL": "postgresql://ivr@db:5432/ivr",
           "IVR_CLUSTER_REDIS_URL": "redis://:pw@cache:6379/0", "IVR_SERVER_PORT": "8081"}
    config = load_config(env=env)
    assert config.store.url == "postgresql://ivr@db:5432/ivr"
    assert config.worker_id.endswith("-8081")  # host-port when unnamed in a cluster
    assert config.worker_url == config.server.public_url
    named = load_config(env={**env, "IVR_CLUSTER_WORKER_ID": "w2",
                             "IVR_CLUSTER_WORKER_URL": "https://w2.example.com/"})
    assert (named.worker_id, named.worker_url) == ("w2", "https://w2.example.com")
    assert load_config(env={"IVR_TWILIO_AUTH_TOKEN": "t"}).worker_id == ""  # the only worker
    bad = [({"IVR_STORE_URL": "mysql://x/y"}, "store.url"),
           ({"IVR_STORE_URL": "sqlite://relative"}, "store.url"),
           ({"IVR_CLUSTER_REDIS_URL": "redis://cache"}, "store.url"),  # SQLite + cluster
           ({**env, "IVR_CLUSTER_REDIS_URL": "http://cache"}, "cluster.redis_url"),
           ({**env, "IVR_CLUSTER_DEAD_AFTER_S": "2"}, "cluster.dead_after_s"),
           ({**env, "IVR_CLUSTER_WORKER_URL": "ftp://w"}, "cluster.worker_url"),
           ({"IVR_STORE_POOL_SIZE": "0"}, "store.pool_size")]
    for extra, setting in bad:
        with pytest.raises(ConfigError, match=setting.replace(".", r"\.")):
            load_config(env={"IVR_TWILIO_AUTH_TOKEN": "t", **extra})


@pytest.mark.parametrize(("env", "setting"), [
    ({"IVR_SERVER_MAX_MEDIA_SOCKETS": "0"}, "server.max_media_sockets"),
    ({"IVR_SERVER_STREAM_TOKEN_TTL_S": "0"}, "server.stream_token_ttl_s"),
    ({"IVR_CALL_MAX_MESSAGE_BYTES": "-1"}, "call.max_message_bytes"),
    ({"IVR_CALL_MEDIA_RATE_SLACK": "0.5"}, "call.media_rate_slack"),
    ({"IVR_IDENTITY_MAX_FAILURES": "0"}, "identity.max_failures"),
    ({"IVR_IDENTITY_MIN_CONFIDENCE": "2"}, "identity.min_confidence"),
    ({"IVR_RASA_MAX_CONVERSATIONS": "0"}, "rasa.max_conversations"),
    ({"IVR_ECHO_GATE_TAIL_MS": "200"}, "echo.gate_tail_ms"),  # shorter than echo.tail_ms
])
def test_security_bounds_are_validated(env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, {**OK_ENV, **env})
    assert setting in str(err.value)


def test_unchecked_config_skips_validation(tmp_path: Path) -> None:
    unchecked = load_config(None, {"IVR_SERVER_DATA_DIR": str(tmp_path)}, check=False)
    assert unchecked.twilio.auth_token == ""  # no validation: e.g. for `ivr customers import`
