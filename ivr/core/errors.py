"""Errors carry a machine-readable code; wrap lower errors with ``raise ... from``."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    CONFIG_INVALID = "config_invalid"
    MODEL_MISSING = "model_missing"
    MODEL_INVALID = "model_invalid"
    ASR_FAILED = "asr_failed"
    TTS_FAILED = "tts_failed"
    TTS_TIMEOUT = "tts_timeout"
    DIALOGUE_UNAVAILABLE = "dialogue_unavailable"
    DIALOGUE_TIMEOUT = "dialogue_timeout"
    DIALOGUE_BAD_RESPONSE = "dialogue_bad_response"
    WIRE_MALFORMED = "wire_malformed"
    WIRE_UNKNOWN_EVENT = "wire_unknown_event"
    WIRE_OUT_OF_ORDER = "wire_out_of_order"
    SIGNATURE_INVALID = "signature_invalid"
    STORE_FAILED = "store_failed"
    PROVIDER_API_FAILED = "provider_api_failed"
    SETUP_FAILED = "setup_failed"


class IvrError(Exception):
    """Base error: ``code`` is stable and goes into logs and call records."""

    code: ErrorCode = ErrorCode.CONFIG_INVALID

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {super().__str__()}"


class ConfigError(IvrError):
    code = ErrorCode.CONFIG_INVALID


class ModelError(IvrError):
    code = ErrorCode.MODEL_MISSING


class AsrError(IvrError):
    code = ErrorCode.ASR_FAILED


class TtsError(IvrError):
    code = ErrorCode.TTS_FAILED


class DialogueError(IvrError):
    code = ErrorCode.DIALOGUE_UNAVAILABLE


class WireError(IvrError):
    code = ErrorCode.WIRE_MALFORMED


class SignatureError(IvrError):
    code = ErrorCode.SIGNATURE_INVALID


class StoreError(IvrError):
    code = ErrorCode.STORE_FAILED


class ProviderApiError(IvrError):
    code = ErrorCode.PROVIDER_API_FAILED


class SetupError(IvrError):
    code = ErrorCode.SETUP_FAILED
