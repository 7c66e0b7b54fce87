"""A tiny stand-in for the IVR's internal customer API (same JSON contract), for local tests.

    python tests/fake_ivr_api.py --port 8089 --token secret

Routes (all need header X-IVR-Internal-Token when --token is given):
  GET  /internal/customers/{id}                 -> profile, 404 when unknown
  POST /internal/calls/{sid}/followups          {"kind","detail","due_in_hours"?} -> 201 {"id"}
  POST /internal/calls/{sid}/results            any subset of the result keys -> 200 {}
  POST /internal/calls/{sid}/callback           {"when","lang"} -> 201 {"id","due_at","readback",
                                                "as_asked","campaign_id"} (ivr.text placing, the
                                                default windows, Shanghai, a fixed "now": FAKE_NOW)
  POST /internal/calls/{sid}/opt-out            -> 200 {"do_not_call": true, "at"}
  POST /internal/calls/{sid}/offer              -> 200 {"channel": "sms", "sent": true}
Debug (no token): GET /_calls/{sid} -> {"followups": [...], "results": {...}}
Customer "C500" answers every route with HTTP 500 (to test the system_error path).
Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RESULT_KEYS = {"confirmed_fields", "corrections", "faq_topics", "rating", "feedback", "offer",
               "reward", "identity_verified"}
FOLLOWUP_KINDS = {"info_correction", "bank_card_change", "payment_investigation", "callback",
                  "fraud_report", "complaint", "phone_review"}
FAKE_NOW = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc)  # a Friday, 10:00 in Shanghai
# the IVR's default calling windows (minutes after local midnight)
WEEKDAY_WINDOWS = ((720, 810), (1110, 1260))
WEEKEND_WINDOWS = ((600, 720), (840, 1200))


def _windows(day: Any) -> tuple[tuple[int, int], ...]:
    return WEEKDAY_WINDOWS if day.weekday() < 5 else WEEKEND_WINDOWS


def book_callback(when: str, lang: str) -> dict[str, Any]:
    from ivr.text.callback_slot import resolve  # the IVR's own placing of the words
    from ivr.text.callback_time import parse_callback_time

    slot = resolve(parse_callback_time(when), FAKE_NOW, "Asia/Shanghai", _windows)
    return {"due_at": slot.due_at.isoformat(), "readback": slot.phrase(lang, FAKE_NOW),
            "as_asked": slot.as_asked}


def _ago(days: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()


def customers() -> dict[str, dict[str, Any]]:
    base = {"application_status": "pre_review_passed", "preferred_channel": "sms",
            "marketing_opt_out": False, "missing_documents": [], "expected_review_days": None,
            "recent_issues": []}
    rows = [
        # zh, inactive with a missing document, failed payment two days ago -> proactive help
        {"customer_id": "C001", "name": "张伟明", "title": "张先生", "language": "zh",
         "phone_masked": "138****5678", "card_last4": "4321", "city": "上海",
         "activation_status": "inactive", "missing_documents": ["id_card_back"],
         "expected_review_days": 3, "_id_last4": "1234",
         "recent_issues": [{"kind": "failed_payment", "at": _ago(2), "amount": 35.0,
                            "currency": "CNY", "payee": "星巴克", "channel": "qr_code",
                            "error": "insufficient_balance"}]},
        # en, active, no recent issues, marketing allowed
        {"customer_id": "C002", "name": "Emily Chen", "title": "Ms. Chen", "language": "en",
         "phone_masked": "139****1234", "card_last4": "8765", "city": "Shenzhen",
         "activation_status": "active", "_id_last4": "5678"},
        # zh, review finished but not activated, opted out of marketing, no recent issues
        {"customer_id": "C003", "name": "李娜", "title": "李女士", "language": "zh",
         "phone_masked": "137****0001", "card_last4": "1111", "city": "北京",
         "activation_status": "inactive", "expected_review_days": 0, "marketing_opt_out": True,
         "_id_last4": "2468"},
        # en, inactive (review running, long), refund four days ago -> proactive help
        {"customer_id": "C004", "name": "Wang Lei", "title": "Mr. Wang", "language": "en",
         "phone_masked": "136****9999", "card_last4": "2222", "city": "Hangzhou",
         "activation_status": "inactive", "expected_review_days": 7, "_id_last4": "9090",
         "recent_issues": [{"kind": "refund", "at": _ago(4), "amount": 120.5,
                            "currency": "CNY", "payee": "JD.com", "channel": "online",
                            "error": None}]},
        # en, failed payment with a wrong password -> proactive help
        {"customer_id": "C005", "name": "Liu Yang", "title": "Mr. Liu", "language": "en",
         "phone_masked": "135****4321", "card_last4": "3333", "city": "Chengdu",
         "activation_status": "active", "_id_last4": "1357",
         "recent_issues": [{"kind": "failed_payment", "at": _ago(1), "amount": 88.0,
                            "currency": "CNY", "payee": "Didi", "channel": "app",
                            "error": "wrong_password"}]},
    ]
    return {row["customer_id"]: {**base, **row} for row in rows}


class State:
    def __init__(self, token: str) -> None:
        self.token = token
        self.customers = customers()
        self.calls: dict[str, dict[str, Any]] = {}
        self.next_id = 1
        self.lock = threading.Lock()

    def call(self, sid: str) -> dict[str, Any]:
        return self.calls.setdefault(sid, {"followups": [], "results": {}, "verify": []})


def make_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args: Any) -> None:  # quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if state.token and self.headers.get("X-IVR-Internal-Token") != state.token:
                self._send(401, {"error": "unauthorised"})
                return False
            return True

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            return json.loads(raw or b"{}")

        def do_GET(self) -> None:  # noqa: N802
            m = re.fullmatch(r"/_calls/([^/]+)", self.path)
            if m:
                with state.lock:
                    self._send(200, state.call(m.group(1)))
                return
            if not self._authorised():
                return
            m = re.fullmatch(r"/internal/customers/([^/]+)", self.path)
            if not m:
                self._send(404, {"error": "no route"})
                return
            cid = m.group(1)
            if cid == "C500":
                self._send(500, {"error": "boom"})
                return
            row = state.customers.get(cid)
            if row is None:
                self._send(404, {"error": "unknown customer"})
                return
            self._send(200, {k: v for k, v in row.items() if not k.startswith("_")})

        def do_POST(self) -> None:  # noqa: N802
            if not self._authorised():
                return
            try:
                body = self._body()
            except (ValueError, json.JSONDecodeError):
                self._send(400, {"error": "bad json"})
                return
            m = re.fullmatch(r"/internal/calls/([^/]+)/followups", self.path)
            if m:
                if body.get("kind") not in FOLLOWUP_KINDS or not isinstance(
                        body.get("detail"), str):
                    self._send(400, {"error": "bad followup"})
                    return
                with state.lock:
                    fid = state.next_id
                    state.next_id += 1
                    state.call(m.group(1))["followups"].append({"id": fid, **body})
                self._send(201, {"id": fid})
                return
            m = re.fullmatch(r"/internal/calls/([^/]+)/callback", self.path)
            if m:
                when, lang = body.get("when", ""), body.get("lang", "zh")
                if not isinstance(when, str) or lang not in ("zh", "en") or set(body) - {
                        "when", "lang"}:
                    self._send(400, {"error": "bad callback"})
                    return
                booked = book_callback(when, lang)
                with state.lock:
                    fid = state.next_id
                    state.next_id += 1
                    state.call(m.group(1))["followups"].append(
                        {"id": fid, "kind": "callback", "when": when, **booked})
                self._send(201, {"id": fid, "campaign_id": f"cb-{fid}", **booked})
                return
            m = re.fullmatch(r"/internal/calls/([^/]+)/offer", self.path)
            if m:
                with state.lock:
                    state.call(m.group(1))["offer_sent"] = "sms"
                self._send(200, {"channel": "sms", "sent": True})
                return
            m = re.fullmatch(r"/internal/calls/([^/]+)/opt-out", self.path)
            if m:
                with state.lock:
                    state.call(m.group(1))["opt_out"] = FAKE_NOW.isoformat()
                self._send(200, {"do_not_call": True, "at": FAKE_NOW.isoformat()})
                return
            m = re.fullmatch(r"/internal/calls/([^/]+)/results", self.path)
            if m:
                unknown = set(body) - RESULT_KEYS
                if unknown:
                    self._send(400, {"error": f"unknown keys {sorted(unknown)}"})
                    return
                with state.lock:
                    state.call(m.group(1))["results"].update(body)
                self._send(200, {})
                return
            self._send(404, {"error": "no route"})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(State(args.token)))
    print(f"fake IVR API on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
