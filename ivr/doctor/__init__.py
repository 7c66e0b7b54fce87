"""``ivr doctor``: checks a machine and says what to fix (``run_doctor`` → findings)."""

from __future__ import annotations

from ivr.config import Config
from ivr.doctor.models import check_rasa_model, check_speech_models
from ivr.doctor.network import check_ports_free, check_provider, check_public_url
from ivr.doctor.report import Finding, Status, render
from ivr.doctor.system import check_system, check_vad, check_venvs


def run_doctor(config: Config) -> list[Finding]:
    return [*check_system(), *check_vad(config), *check_venvs(config), *check_speech_models(config),
            *check_rasa_model(config), *check_ports_free(config), *check_provider(config),
            *check_public_url(config)]


__all__ = ["Finding", "Status", "render", "run_doctor"]
