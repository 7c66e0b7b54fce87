"""Per-language intent scores from a `rasa test nlu` run (split by script: Han -> zh).

    python3 tests/nlu_by_language.py results/intent_report.json results/intent_errors.json tests/nlu_test.yml
Uses the test file for the gold labels and intent_errors.json for the misclassified ones.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict

HAN = re.compile(r"[\u4e00-\u9fff]")


def gold(path: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    intent = None
    for line in open(path, encoding="utf-8"):
        m = re.match(r"\s*- intent: (\S+)", line)
        if m:
            intent = m.group(1)
            continue
        m = re.match(r"\s+- (.+)$", line)
        if m and intent and "examples" not in line:
            out.append((m.group(1).strip(), intent))
    return out


def main() -> None:
    _, errors_path, test_path = sys.argv[1:4]
    errors = {e["text"]: e["intent_prediction"]["name"] for e in json.load(open(errors_path))}
    by_lang: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for text, intent in gold(test_path):
        lang = "zh" if HAN.search(text) else "en"
        by_lang[lang].append((intent, errors.get(text, intent)))
    for lang, pairs in sorted(by_lang.items()):
        labels = sorted({g for g, _ in pairs} | {p for _, p in pairs})
        f1s, weights = [], []
        for label in labels:
            tp = sum(1 for g, p in pairs if g == label and p == label)
            fp = sum(1 for g, p in pairs if g != label and p == label)
            fn = sum(1 for g, p in pairs if g == label and p != label)
            prec = tp / (tp + fp) if tp + fp else 0.0
            rec = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
            support = tp + fn
            if support:
                f1s.append(f1)
                weights.append(support)
        acc = sum(1 for g, p in pairs if g == p) / len(pairs)
        macro = sum(f1s) / len(f1s)
        weighted = sum(f * w for f, w in zip(f1s, weights)) / sum(weights)
        print(f"{lang}: n={len(pairs)} accuracy={acc:.3f} macro-F1={macro:.3f} "
              f"weighted-F1={weighted:.3f}")
        for g, p in pairs:
            pass
    for text, pred in errors.items():
        print(f"  error: {text!r} -> {pred}")


if __name__ == "__main__":
    main()
