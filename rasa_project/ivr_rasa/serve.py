"""Start the Rasa server or the action server with their secrets from the environment.

    python -m ivr_rasa.serve server <rasa run arguments>     # adds --auth-token $IVR_RASA_TOKEN
    python -m ivr_rasa.serve actions --port 5055             # 127.0.0.1 only

Secrets never go on a command line (every local user can read /proc/<pid>/cmdline). The action
server answers ``/webhook`` and ``/actions`` only with ``X-IVR-Actions-Token`` equal to
``$IVR_ACTIONS_TOKEN`` (Rasa sends it: ``headers`` of ``action_endpoint`` in the endpoints file
that ``ivr serve`` writes); ``/health`` stays open and says nothing but "ok".
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
from typing import Any, List

TOKEN_HEADER = "X-IVR-Actions-Token"


def run_server(argv: List[str]) -> None:
    token = os.environ.get("IVR_RASA_TOKEN", "")
    if not token:
        sys.exit("IVR_RASA_TOKEN is not set: refusing to start Rasa without an API token")
    sys.argv = ["rasa", "run", *argv, "--auth-token", token]
    from rasa.__main__ import main

    from ivr_rasa.speedups import (
        install_cached_validation,
        install_heap_freeze,
        install_rule_index,
        warm_jieba,
    )

    install_cached_validation()
    install_rule_index()
    install_heap_freeze()
    warm_jieba()

    main()


def actions_app(package: str = "actions") -> Any:
    from rasa_sdk.endpoint import create_app
    from sanic import response

    expected = os.environ.get("IVR_ACTIONS_TOKEN", "")
    app = create_app(package, cors_origins=[])

    @app.middleware("request")
    async def require_token(request: Any) -> Any:
        if request.path == "/health":
            return None
        given = request.headers.get(TOKEN_HEADER, "")
        if not (expected and given and hmac.compare_digest(given.encode(), expected.encode())):
            logging.getLogger(__name__).warning("action server refused %s %s",
                                                request.method, request.path)
            return response.json({"error": "forbidden"}, status=403)
        return None

    return app


def run_actions(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(prog="ivr_rasa.serve actions")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    if not os.environ.get("IVR_ACTIONS_TOKEN"):
        sys.exit("IVR_ACTIONS_TOKEN is not set: refusing to start an open action server")
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = actions_app(args.actions)
    app.run("127.0.0.1", args.port, access_log=False, workers=1)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("server", "actions"):
        sys.exit("usage: python -m ivr_rasa.serve server|actions [arguments]")
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode == "server":
        run_server(rest)
    else:
        run_actions(rest)


if __name__ == "__main__":
    main()
