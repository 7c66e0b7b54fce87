"""Two per-turn costs of Rasa 3.6 removed without changing what it does (measured with py-spy
on `ivr bench`, 20 calls: see README, "Where a turn's time goes").

1. Every action server response is checked with ``jsonschema.validate(result, schema)``, which
   first validates the constant response schema against its meta-schema — about a third of
   Rasa's CPU per message. :func:`install_cached_validation` checks the schema once and keeps
   one validator; each response is still validated in full, and an invalid one raises the same
   ``ValidationError`` (``best_match``, the same message) as before.
2. jieba loads its dictionary on the first sentence it cuts (~0.6 s of CPU inside the first
   call's first turn). :func:`warm_jieba` loads it while Rasa starts.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Text

log = logging.getLogger(__name__)
_MARK = "_ivr_cached_validation"


def install_cached_validation() -> bool:
    """Replace ``RemoteAction._validate_action_result`` (False when Rasa's layout differs)."""
    try:
        from jsonschema import ValidationError
        from jsonschema.exceptions import best_match
        from jsonschema.validators import validator_for
        from rasa.core.actions.action import RemoteAction
        from rasa.shared.constants import DOCS_BASE_URL
    except ImportError as exc:
        log.warning("action response validation not cached: %s", exc)
        return False
    original = getattr(RemoteAction, "_validate_action_result", None)
    if original is None or not hasattr(RemoteAction, "action_response_format_spec"):
        log.warning("action response validation not cached: unknown Rasa layout")
        return False
    if getattr(original, _MARK, False):
        return True
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    def _validate_action_result(self: Any, result: Dict[Text, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    setattr(_validate_action_result, _MARK, True)
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    return True


def warm_jieba() -> bool:
    try:
        import jieba
    except ImportError:
        return False
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return True
