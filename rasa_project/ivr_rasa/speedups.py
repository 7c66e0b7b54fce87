"""Three per-turn costs of Rasa 3.6 removed without changing what it does (measured with py-spy
on `ivr bench`, 20 calls: see README, "Where a turn's time goes").

1. Every action server response is checked with ``jsonschema.validate(result, schema)``, which
   first validates the constant response schema against its meta-schema — about a third of
   Rasa's CPU per message. :func:`install_cached_validation` checks the schema once and keeps
   one validator; each response is still validated in full, and an invalid one raises the same
   ``ValidationError`` (``best_match``, the same message) as before.
2. ``RulePolicy`` finds the rules that apply by testing every rule (586 here) against the
   current state, several times per message — about a third of what remained.
   :func:`install_rule_index` groups the rules by the previous action their last state needs and
   tests only those that can match (then each as before), and stops walking back through the
   conversation once every remaining rule is shorter than the walk: the same keys, fewer tests.
3. jieba loads its dictionary on the first sentence it cuts (~0.6 s of CPU inside the first
   call's first turn). :func:`warm_jieba` loads it while Rasa starts.
4. A full garbage collection walks every live object: with TensorFlow, jieba's dictionary and
   the trained model in memory, one held Rasa's event loop — every conversation's turn — for
   tens of milliseconds, at the moment many turns were queued. :func:`install_heap_freeze`
   freezes what loading built (``gc.freeze`` once the model is loaded), so later collections
   walk only what conversations created.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Set, Text

log = logging.getLogger(__name__)
_MARK = "_ivr_cached_validation"
_INDEX_MARK = "_ivr_rule_index"
_FREEZE_MARK = "_ivr_heap_freeze"


def _patch_state(cls: Any, method: str, needs: str, mark: str, what: str) -> bool | None:
    """None when ``cls.method`` can be replaced; True when it already is (``mark``); False, with
    a warning, when this Rasa's layout is not the one the replacement was written for."""
    original = getattr(cls, method, None)
    if original is None or not hasattr(cls, needs):
        log.warning("%s: unknown Rasa layout", what)
        return False
    return True if getattr(original, mark, False) else None


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
    state = _patch_state(RemoteAction, "_validate_action_result", "action_response_format_spec",
                         _MARK, "action response validation not cached")
    if state is not None:
        return state
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


def install_heap_freeze() -> bool:
    """Wrap ``rasa.core.run.load_agent_on_start`` (looked up when the server starts) so the
    heap is collected and frozen once the model is loaded (False when Rasa's layout differs)."""
    import gc

    import rasa.core.run as run

    original = getattr(run, "load_agent_on_start", None)
    if original is None:
        log.warning("heap freeze: unknown Rasa layout")
        return False
    if getattr(original, _FREEZE_MARK, False):
        return True

    async def load_then_freeze(*args: Any, **kwargs: Any) -> Any:
        agent = await original(*args, **kwargs)
        gc.collect()
        gc.freeze()
        log.info("heap frozen after loading the model: %d objects", gc.get_freeze_count())
        return agent

    setattr(load_then_freeze, _FREEZE_MARK, True)
    run.load_agent_on_start = load_then_freeze
    return True


class _RuleIndex:
    """The rule keys of one RulePolicy lookup, grouped by what their last state needs as the
    previous action, and each rule's length."""

    def __init__(self, policy: Any, lookup: Dict[Text, Text]) -> None:
        from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
        from rasa.shared.nlu.constants import ACTION_NAME

        self.size = len(lookup)
        self.no_prev: List[Text] = []  # last state without a previous action
        self.by_name: Dict[Text, List[Text]] = {}  # ... needing exactly this action name
        self.other: List[Text] = []  # ... needing something else (action text, "not set")
        self.length: Dict[Text, int] = {}
        for key in lookup:
            states = policy._rule_key_to_state(key)
            self.length[key] = len(states)
            prev = states[-1].get(PREVIOUS_ACTION) if states else None
            if not prev:
                self.no_prev.append(key)
                continue
            name = prev.get(ACTION_NAME)
            if isinstance(name, str) and name and name != SHOULD_NOT_BE_SET:
                self.by_name.setdefault(name, []).append(key)
            else:
                self.other.append(key)

    def candidates(self, current: Dict[Text, Any]) -> List[Text]:
        """Every key that can apply to the current state (a superset: each is still checked)."""
        from rasa.shared.core.constants import PREVIOUS_ACTION
        from rasa.shared.nlu.constants import ACTION_NAME

        prev = current.get(PREVIOUS_ACTION)
        if not prev:
            return self.no_prev
        return self.by_name.get(prev.get(ACTION_NAME), []) + self.other


def install_rule_index() -> bool:
    """Replace ``RulePolicy._get_possible_keys`` with an indexed one giving the same keys."""
    try:
        from rasa.core.policies.rule_policy import RulePolicy
    except ImportError as exc:
        log.warning("rule lookup not indexed: %s", exc)
        return False
    state = _patch_state(RulePolicy, "_get_possible_keys", "_is_rule_applicable", _INDEX_MARK,
                         "rule lookup not indexed")
    if state is not None:
        return state

    def _get_possible_keys(self: Any, lookup: Dict[Text, Text],
                           states: List[Dict[Text, Any]]) -> Set[Text]:
        if not states:
            return set(lookup.keys())
        indexes = self.__dict__.setdefault("_ivr_rule_indexes", {})
        index = indexes.get(id(lookup))
        if index is None or index.size != len(lookup):
            index = indexes[id(lookup)] = _RuleIndex(self, lookup)
        current = states[-1]
        possible = {key for key in index.candidates(current)
                    if self._is_rule_applicable(key, 0, current)}
        for turn, state in enumerate(reversed(states[:-1]), start=1):
            # a rule no longer than `turn` applies at every earlier turn: nothing left to drop
            if not possible or turn >= max(index.length[key] for key in possible):
                break
            possible = {key for key in possible if self._is_rule_applicable(key, turn, state)}
        return possible

    setattr(_get_possible_keys, _INDEX_MARK, True)
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]
    return True
