"""Held-out NLU evaluation through the real model's /model/parse, in three forms per utterance.

    PYTHONPATH=.. ../.venv-rasa/bin/python tests/eval_heldout.py --model models/ivr.tar.gz \
        --out /tmp/heldout.json          # starts `rasa run --enable-api` on a free port
    ... --url http://127.0.0.1:5005      # or use a running server

Forms (tests/heldout.yml, see its header):
- ``written``: as written (punctuation, capitals, digits);
- ``words``: what a recognizer emits — zh: jieba segmentation joined by spaces, no punctuation,
  digits as Chinese numerals; en: lower case, no punctuation, digits as words;
- ``chars``: zh: every CJK character separated by spaces; en: same as ``words``.

Each form is parsed as sent (``raw``: the in-pipeline normaliser must cope) and after the IVR's
own normaliser (``ivr``: what the dialogue bridge sends). Per language, form and path: intent
accuracy (strict, and counting `also` intents that reach the same action), macro F1 (strict),
and for ratings whether ``ivr.text.parse_rating`` reads the value. Runs in the Rasa venv
(jieba); ``ivr.text`` comes from the repository root on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import jieba
import yaml

from ivr.text import normalize, parse_rating

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
FORMS = ("written", "words", "chars")
PATHS = ("raw", "ivr")
_EN_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_ZH_NUMS = "零一二三四五六七八九"
_PUNCT = re.compile(r"[^\w\s'\[\]]")
_CJK = re.compile(r"[\u3400-\u9fff]")


def load(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = []
    for lang, intents in data.items():
        for intent, examples in intents.items():
            for ex in examples:
                item = {"text": ex} if isinstance(ex, str) else dict(ex)
                item.update(lang=lang, intent=intent, also=list(item.get("also") or []))
                items.append(item)
    return items


def load_rasa_nlu(path: Path) -> list[dict[str, Any]]:
    """The older held-out file in Rasa's NLU format (language by script: Han -> zh)."""
    items: list[dict[str, Any]] = []
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for block in data.get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                lang = "zh" if _CJK.search(text) else "en"
                items.append({"text": text, "lang": f"legacy-{lang}", "intent": block["intent"],
                              "also": []})
    return items


def words_form(text: str, lang: str) -> str:
    if lang == "en":
        low = _PUNCT.sub(" ", text.lower())
        low = re.sub(r"\d", lambda m: f" {_EN_WORDS[int(m.group())]} ", low)
        return " ".join(low.split())
    plain = re.sub(r"\d", lambda m: _ZH_NUMS[int(m.group())], _PUNCT.sub(" ", text))
    return " ".join(t for t in jieba.cut(plain) if t.strip())


def chars_form(text: str, lang: str) -> str:
    words = words_form(text, lang)
    if lang == "en":
        return words
    out: list[str] = []
    for token in words.split():
        out.extend(token if _CJK.search(token) else [token])
    return " ".join(out)


def form(text: str, lang: str, name: str) -> str:
    return {"written": text, "words": words_form(text, lang),
            "chars": chars_form(text, lang)}[name]


class Parser:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self.cache: dict[str, tuple[str, float]] = {}

    def __call__(self, text: str) -> tuple[str, float]:
        if text not in self.cache:
            body = json.dumps({"text": text}).encode()
            req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                intent = json.load(resp).get("intent") or {}
            self.cache[text] = (str(intent.get("name")), float(intent.get("confidence") or 0))
        return self.cache[text]


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    labels = {gold for gold, _ in pairs}
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def evaluate(items: list[dict[str, Any]], parse: Parser) -> dict[str, Any]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        forms = ("written",) if item["lang"].startswith("legacy") else FORMS
        for name in forms:
            text = form(item["text"], item["lang"], name)
            for path in PATHS:
                sent = normalize(text) if path == "ivr" else text
                predicted, conf = parse(sent)
                groups[(item["lang"], name, path)].append({
                    "text": item["text"], "sent": sent, "intent": item["intent"],
                    "predicted": predicted, "confidence": round(conf, 3),
                    "ok": predicted == item["intent"],
                    "same_action": predicted == item["intent"] or predicted in item["also"],
                    "rating": item.get("rating"),
                    "rating_read": parse_rating(sent) if item.get("rating") else None,
                })
    report: dict[str, Any] = {}
    for (lang, name, path), rows in sorted(groups.items()):
        rated = [r for r in rows if r["rating"] is not None]
        report[f"{lang}/{name}/{path}"] = {
            "n": len(rows),
            "accuracy": round(sum(r["ok"] for r in rows) / len(rows), 4),
            "same_action": round(sum(r["same_action"] for r in rows) / len(rows), 4),
            "macro_f1": round(macro_f1([(r["intent"], r["predicted"]) for r in rows]), 4),
            "ratings_read": round(sum(r["rating_read"] == r["rating"] for r in rated)
                                  / len(rated), 4) if rated else None,
            "errors": [{k: r[k] for k in ("sent", "intent", "predicted", "confidence")}
                       for r in rows if not r["same_action"]],
            "rating_errors": [{"sent": r["sent"], "rating": r["rating"],
                               "read": r["rating_read"]}
                              for r in rated if r["rating_read"] != r["rating"]],
        }
    return report


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"rasa run exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/status", timeout=2) as resp:
                if json.load(resp).get("model_file"):
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"rasa run not ready after {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--heldout", type=Path, default=HERE / "heldout.yml")
    ap.add_argument("--legacy", type=Path, default=HERE / "nlu_test.yml",
                    help="older held-out split in Rasa's format, evaluated as written")
    ap.add_argument("--model", type=Path, default=PROJECT / "models" / "ivr.tar.gz")
    ap.add_argument("--url", help="a running `rasa run --enable-api` (else one is started)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--startup-timeout", type=float, default=300)
    args = ap.parse_args(argv)
    jieba.setLogLevel(60)
    items = load(args.heldout) + (load_rasa_nlu(args.legacy) if args.legacy.exists() else [])
    proc = None
    url = args.url
    if url is None:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        rasa = Path(sys.executable).parent / "rasa"
        env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
        proc = subprocess.Popen(
            [str(rasa), "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port),
             "--model", str(args.model.resolve())],
            cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    try:
        if proc is not None:
            _wait(url, proc, args.startup_timeout)
        ready = time.monotonic()
        report = evaluate(items, Parser(url))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    report["_timing_s"] = {"startup": round(ready - started, 1),
                           "parsing": round(time.monotonic() - ready, 1)}
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    for key, row in report.items():
        if not key.startswith("_"):
            print(f"{key:18} n={row['n']:4} acc={row['accuracy']:.3f} "
                  f"same_action={row['same_action']:.3f} macroF1={row['macro_f1']:.3f} "
                  f"ratings={row['ratings_read']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
