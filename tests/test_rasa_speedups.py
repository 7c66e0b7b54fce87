"""The launcher's speed-ups inside Rasa's own interpreter: action responses are still validated
in full (same error, same message), but the response schema is checked once, not per response."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

PROBE = """
import jsonschema.validators as v
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from ivr_rasa.speedups import install_cached_validation, warm_jieba

assert install_cached_validation() and install_cached_validation()  # idempotent
checks = []
real = v.Draft4Validator.check_schema
for cls in {v.validator_for(RemoteAction.action_response_format_spec()), v.Draft4Validator}:
    cls.check_schema = classmethod(lambda c, s, *a, **k: checks.append(1))
action = RemoteAction("action_x", None)
good = {"events": [{"event": "slot", "name": "a", "value": 1}],
        "responses": [{"text": "hi"}]}
for _ in range(3):
    assert action._validate_action_result(good) is True
try:
    action._validate_action_result({"events": [{"event": "no_such_event"}]})
except ValidationError as err:
    assert "Failed to validate Action server response" in err.message, err.message
else:
    raise AssertionError("an invalid response passed")
assert checks == [], checks
assert warm_jieba()
import jieba
assert jieba.dt.initialized

import asyncio, gc
import rasa.core.run as run
from ivr_rasa.speedups import install_heap_freeze
loaded = []
async def fake_load(model_path, endpoints, remote_storage, app, loop):
    loaded.append(model_path)
    return "agent"
run.load_agent_on_start = fake_load
assert install_heap_freeze() and install_heap_freeze()  # idempotent: wrapped once
assert gc.get_freeze_count() == 0
assert asyncio.run(run.load_agent_on_start("m", None, None, None, None)) == "agent"
assert loaded == ["m"] and gc.get_freeze_count() > 10000  # Rasa's start-up heap, frozen
print("ok")
"""


def test_action_responses_validated_with_a_schema_checked_once() -> None:
    if not PYTHON.exists():
        pytest.skip("no Rasa virtualenv (make test creates it)")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "rasa_project"), TF_CPP_MIN_LOG_LEVEL="3",
               RASA_TELEMETRY_ENABLED="false")
    run = subprocess.run([str(PYTHON), "-c", PROBE], env=env, capture_output=True, text=True,
                         timeout=120, cwd=ROOT / "rasa_project")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().endswith("ok")


def test_indexed_rule_lookup_finds_exactly_the_keys_rasa_finds() -> None:
    """The trained model's own rules, 3,000 random conversations made of rule states (some
    starting a conversation, some with a typed previous action) and every rule's own states:
    the indexed lookup returns the same keys as Rasa's (the times it prints are
    information; speed belongs in `ivr bench`)."""
    model = ROOT / "rasa_project" / "models" / "ivr.tar.gz"
    if not PYTHON.exists() or not model.exists():
        pytest.skip("no Rasa virtualenv or trained model (make test creates them)")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "rasa_project"), TF_CPP_MIN_LOG_LEVEL="3",
               RASA_TELEMETRY_ENABLED="false")
    run = subprocess.run([str(PYTHON), str(Path(__file__).with_name("rasa_rule_probe.py")),
                          str(model)], env=env, capture_output=True, text=True, timeout=300,
                         cwd=ROOT / "rasa_project")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().endswith("ok")
    print(run.stdout)
