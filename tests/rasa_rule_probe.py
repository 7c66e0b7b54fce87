"""Run by tests/test_rasa_speedups.py in the Rasa interpreter (not collected by pytest): the
indexed RulePolicy lookup against Rasa's own on a trained model (``argv[1]``)."""

from __future__ import annotations

import json
import random
import sys
import tarfile
import time

from ivr_rasa.speedups import install_rule_index  # type: ignore[import-not-found]
from rasa.core.policies.rule_policy import RulePolicy  # type: ignore[import-not-found]


def main(model: str) -> None:
    with tarfile.open(model) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("rule_policy.json"))
        data = tar.extractfile(member)
        assert data is not None
        lookup = json.load(data)["lookup"]["rules"]
    policy = RulePolicy.__new__(RulePolicy)
    original = RulePolicy._get_possible_keys
    rng = random.Random(7)
    rule_states = [policy._rule_key_to_state(k) for k in lookup]
    cases = []
    for _ in range(3000):
        seq = []
        for _ in range(rng.randint(1, 8)):
            seq += [dict(s) for s in rng.choice(rule_states)]
        if rng.random() < 0.2:  # a conversation start state
            seq[0] = {k: v for k, v in seq[0].items() if k != "prev_action"}
        if rng.random() < 0.1:  # a previous action given as text
            seq[-1] = dict(seq[-1], prev_action={"action_text": "hello"})
        cases.append(seq)
    cases += [[dict(s) for s in states] for states in rule_states]  # each rule's own states
    expected = [original(policy, lookup, s) for s in cases]
    started = time.perf_counter()
    for s in cases:
        original(policy, lookup, s)
    t_original = time.perf_counter() - started
    assert install_rule_index() and install_rule_index()  # idempotent
    got = [policy._get_possible_keys(lookup, s) for s in cases]
    started = time.perf_counter()
    for s in cases:
        policy._get_possible_keys(lookup, s)
    t_indexed = time.perf_counter() - started
    assert got == expected, sum(a != b for a, b in zip(got, expected, strict=True))
    assert policy._get_possible_keys(lookup, []) == set(lookup)
    per = 1e3 / len(cases)
    print(f"rules {len(lookup)}, cases {len(cases)}, non-empty {sum(bool(g) for g in got)}, "
          f"Rasa's {t_original * per:.3f} ms, indexed {t_indexed * per:.3f} ms per lookup")
    print("ok")


if __name__ == "__main__":
    main(sys.argv[1])
