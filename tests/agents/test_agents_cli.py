"""``ivr agents add|list|set-presence`` through argparse, on a real database file."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from ivr.agents.cli import register


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ivr")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_add_list_and_set_presence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "ivr.db")
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert _run(["agents", "add", "ann", "--display-name", "Ann Li", "--languages", "zh,en",
                 "--transfer-address", "+8613812345678", "--password-stdin",
                 "--db", db]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["username"] == "ann" and added["languages"] == ["zh", "en"]
    assert added["transfer_address"] == "+86138****5678"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert _run(["agents", "add", "ann", "--transfer-address", "+8613812345678",
                 "--password-stdin", "--db", db]) == 2
    assert "already exists" in capsys.readouterr().err
    assert _run(["agents", "set-presence", "ann", "available", "--db", db]) == 0
    capsys.readouterr()
    assert _run(["agents", "list", "--db", db]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["username"], r["presence"]) for r in rows] == [("ann", "available")]
    assert _run(["agents", "set-presence", "nobody", "busy", "--db", db]) == 1


def test_bad_transfer_target_is_refused(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["agents", "add", "bo", "--transfer-address", "12345", "--password-stdin",
                 "--db", str(tmp_path / "x.db")]) == 2
    assert "E.164" in capsys.readouterr().err
