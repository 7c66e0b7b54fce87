"""``ivr campaign ...`` through its argparse registration, on a temporary database."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import pytest

from ivr.campaigns.cli import read_customer_ids, register
from tests.campaigns.helpers import FakeControl, customer, harness


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ivr")
    parser.add_argument("--config")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


async def _seed(tmp_path: Path) -> None:
    async with harness(tmp_path, FakeControl()) as h:
        await h.customers.upsert_customers([customer(c) for c in ("a", "b", "c")])


def test_campaign_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_seed(tmp_path))
    db = str(tmp_path / "ivr.sqlite3")
    ids = tmp_path / "ids.csv"
    ids.write_text("customer_id,note\na,x\nb,y\nnobody,z\n", encoding="utf-8")
    assert _run("campaign", "create", "Callbacks", "--id", "c1", "--db", db,
                "--set", "max_attempts=4", "--set", "windows=18:30-21:00") == 0
    created = json.loads(capsys.readouterr().out)
    assert created["policy"]["max_attempts"] == 4 and created["state"] == "draft"
    assert _run("campaign", "import", "c1", str(ids), "--db", db) == 1  # one unknown id
    out = capsys.readouterr()
    assert "2 added" in out.out and "unknown customer nobody" in out.err
    assert "import: [" in out.err  # the progress bar's final line
    assert _run("campaign", "dnc", "c1", "b", "--db", db, "--reason", "asked") == 0
    assert "1 added" in capsys.readouterr().out
    assert _run("campaign", "start", "c1", "--db", db) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["queued"] == 2
    assert _run("campaign", "pause", "c1", "--db", db) == 0
    assert _run("campaign", "start", "c1", "--db", db) == 2  # not a draft any more
    assert _run("campaign", "resume", "c1", "--db", db) == 0
    capsys.readouterr()
    assert _run("campaign", "status", "c1", "--db", db) == 0
    line = capsys.readouterr().out
    assert line.startswith("c1 [running] queued=2 dialing=0 in-progress=0 retrying=0")
    assert _run("campaign", "list", "--db", db) == 0
    assert capsys.readouterr().out.startswith("c1 [running]")
    assert _run("campaign", "report", "c1", "--out", str(tmp_path / "r"), "--db", db) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["targets"] == 2
    assert (tmp_path / "r" / "report.html").is_file()
    assert _run("campaign", "create", "bad", "--db", db, "--set", "max_attempts=0") == 2


def test_customer_id_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('["x", {"customer_id": "y"}]', encoding="utf-8")
    (tmp_path / "a.txt").write_text("x\n\n y \n", encoding="utf-8")
    assert read_customer_ids(tmp_path / "a.json") == ["x", "y"]
    assert read_customer_ids(tmp_path / "a.txt") == ["x", "y"]
