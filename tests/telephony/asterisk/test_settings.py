"""[asterisk] settings → adapter settings; config validation names the setting."""

from __future__ import annotations

import pytest

from ivr.config import AsteriskConfig, load_config
from ivr.core.errors import ConfigError
from ivr.telephony.asterisk.settings import settings_from_config


async def test_peers_default_to_the_ari_host() -> None:
    cfg = AsteriskConfig(enabled=True, ari_url="http://127.0.0.1:8088/ari",
                         ari_password="pw-not-shown")
    settings = await settings_from_config(cfg)
    assert settings.peers == ("127.0.0.1",)
    assert "pw-not-shown" not in repr(settings)
    explicit = await settings_from_config(AsteriskConfig(audiosocket_peers="10.0.0.5, 10.0.1.0/24"))
    assert explicit.peers == ("10.0.0.5", "10.0.1.0/24")


@pytest.mark.parametrize(("env", "message"), [
    ({"IVR_ASTERISK_ENABLED": "1"}, "asterisk.ari_password"),
    ({"IVR_ASTERISK_ENABLED": "1", "IVR_ASTERISK_ARI_PASSWORD": "p",
      "IVR_ASTERISK_ARI_URL": "ftp://pbx"}, "asterisk.ari_url"),
    ({"IVR_ASTERISK_ENABLED": "1", "IVR_ASTERISK_ARI_PASSWORD": "p",
      "IVR_ASTERISK_DTMF_FROM": "both"}, "asterisk.dtmf_from"),
    ({"IVR_ASTERISK_ENABLED": "1", "IVR_ASTERISK_ARI_PASSWORD": "p",
      "IVR_ASTERISK_OUTBOUND_ENDPOINT": "PJSIP/trunk"}, "asterisk.outbound_endpoint"),
    ({"IVR_ECHO_TAIL_MS": "5"}, "echo.tail_ms"),
])
def test_bad_settings_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(env={"IVR_TWILIO_AUTH_TOKEN": "t", **env})


def test_asterisk_from_the_environment() -> None:
    config = load_config(env={"IVR_TWILIO_AUTH_TOKEN": "t", "IVR_ASTERISK_ENABLED": "true",
                              "IVR_ASTERISK_ARI_PASSWORD": "secret",
                              "IVR_ASTERISK_AUDIOSOCKET_PORT": "9300"})
    assert config.asterisk.enabled and config.asterisk.audiosocket_port == 9300
    assert config.echo.enabled and config.echo.tail_ms == 300
