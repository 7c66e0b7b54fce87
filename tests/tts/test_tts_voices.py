import pytest

from ivr.core.errors import ErrorCode, TtsError
from ivr.tts.protocol import VoiceInfo
from ivr.tts.voices import check_voices, close_matches

VOICES = [
    VoiceInfo("sit/cmn", "Chinese (Mandarin, latin as English)", ("cmn",)),
    VoiceInfo("sit/yue", "Chinese (Cantonese)", ("yue",)),
    VoiceInfo("gmw/en-us", "English (America)", ("en-us",)),
    VoiceInfo("gmw/en", "English (Great Britain)", ("en-gb",)),
]


def test_known_voices_pass() -> None:
    check_voices(["sit/cmn", "GMW/EN-US"], VOICES)


def test_close_matches_by_tail_and_spelling() -> None:
    assert close_matches("cmn", VOICES)[0] == "sit/cmn"
    assert "gmw/en-us" in close_matches("en-us", VOICES)
    assert "sit/cmn" in close_matches("sit/cmm", VOICES)


def test_unknown_voice_error_names_it_and_hints() -> None:
    with pytest.raises(TtsError) as info:
        check_voices(["cmn", "klingon"], VOICES)
    message = str(info.value)
    assert "'cmn'" in message and "sit/cmn" in message
    assert "'klingon'" in message and "no close matches" in message
    assert info.value.code is ErrorCode.CONFIG_INVALID
