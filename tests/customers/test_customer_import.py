"""``ivr customers import``: CSV and JSON, good rows load, bad rows reported by line."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ivr.customers.cli import register
from ivr.customers.importer import ImportFileError, import_customers, read_rows, validate_rows
from ivr.customers.model import FollowUpKind
from ivr.customers.service import CustomerService
from ivr.store.customers import SqliteCustomerStore
from tests.customers.customer_samples import HASHER, NOW

CSV = (
    "customer_id,name,title,phone,id_last4,language,missing_documents,marketing_opt_out,"
    "recent_transactions\n"
    "c-1,张伟,张先生,+8613812345678,123X,zh,id_card_back;proof_of_address,false,\n"   # line 2
    "c-2,Emma Brown,Ms. Brown,+447700900123,0042,en,,true,"                          # line 3
    '"[{""at"": ""2024-06-09T10:00:00+00:00"", ""kind"": ""payment"",\n'
    '""amount"": 12, ""status"": ""failed"", ""error"": ""network error""}]"\n'
    "\n"
    "c-3,王芳,王女士,13812345678,1234,zh,,false,\n"                                  # line 6
    "c-4,李娜,李女士,+8613912345678,1234,fr,,false,\n"                              # line 7
    "c-5,赵强,赵先生,+8613712345678,12345,zh,,false,\n"                             # line 8
    "c-1,张伟,张先生,+8613812345678,123X,zh,,false,\n"                              # line 9
    "c-6,周杰,周先生,+8613612345678,5678,zh,,false,,extra\n"                        # line 10
)

JSON = """[
  {"customer_id": "j-1", "name": "Grace Hall", "phone": "+6581234567", "language": "en",
   "missing_documents": ["selfie"], "marketing_opt_out": false},
  {"customer_id": "j-2", "name": "陈静", "phone": "+8615012345678",
   "nickname": "静静"},
  {
    "customer_id": "j-3",
    "name": "孙磊",
    "phone": "+8615112345678",
    "id_last4": "12"
  },
  "not an object",
  {"customer_id": "j-1", "name": "Grace Hall", "phone": "+6581234567"}
]
"""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCustomerStore]:
    async with await SqliteCustomerStore.open(tmp_path / "ivr.db") as opened:
        yield opened


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_csv_good_rows_load_and_bad_rows_have_line_numbers(
        tmp_path: Path, store: SqliteCustomerStore) -> None:
    report = await import_customers(write(tmp_path, "customers.csv", CSV), store, HASHER)
    assert (report.rows, report.created, report.updated) == (7, 2, 0)
    failures = {(f.line, f.customer_id): f.reason for f in report.failures}
    assert set(failures) == {(6, "c-3"), (7, "c-4"), (8, "c-5"), (9, "c-1"), (10, None)}
    assert "bad phone" in failures[(6, "c-3")]
    assert "13812345678" not in failures[(6, "c-3")]
    assert "bad language" in failures[(7, "c-4")]
    assert "id_last4 must be exactly 4 characters" in failures[(8, "c-5")]
    assert "duplicate customer_id (first on line 2)" in failures[(9, "c-1")]
    assert "header columns" in failures[(10, None)]
    emma = await store.get_customer("c-2")
    assert emma is not None and emma.marketing_opt_out
    assert emma.recent_transactions[0].error == "network error"
    zhang = await store.get_customer("c-1")
    assert zhang is not None and zhang.missing_documents == ("id_card_back", "proof_of_address")


async def test_json_rows_are_reported_by_the_line_they_start_on(
        tmp_path: Path, store: SqliteCustomerStore) -> None:
    report = await import_customers(write(tmp_path, "customers.json", JSON), store, HASHER)
    assert (report.rows, report.created) == (5, 1)
    lines = {f.line: f.reason for f in report.failures}
    assert set(lines) == {4, 6, 12, 13}
    assert "unknown field(s): nickname" in lines[4]
    assert "id_last4 must be exactly 4 characters" in lines[6]
    assert "not a JSON object" in lines[12]
    assert "duplicate customer_id (first on line 2)" in lines[13]
    assert report.summary() == "5 rows: 1 loaded (1 new, 0 updated), 4 failed"


def test_csv_rows_start_lines_skip_blank_lines_and_quoted_newlines(tmp_path: Path) -> None:
    rows = list(read_rows(write(tmp_path, "customers.csv", CSV)))
    assert [line for line, _ in rows] == [2, 3, 6, 7, 8, 9, 10]


async def test_reimport_updates(tmp_path: Path, store: SqliteCustomerStore) -> None:
    path = write(tmp_path, "customers.csv", CSV)
    await import_customers(path, store, HASHER)
    report = await import_customers(path, store, HASHER)
    assert (report.created, report.updated) == (0, 2)


@pytest.mark.parametrize("text", ['{"customer_id": "x"}', '[{"customer_id": "x"} {}]', "[{"])
def test_broken_json_file_is_a_file_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ImportFileError):
        validate_rows(read_rows(write(tmp_path, "bad.json", text)))


def test_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError):
        read_rows(tmp_path / "absent.csv")


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ivr")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_cli_import_exits_non_zero_on_bad_rows(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.db")
    path = write(tmp_path, "customers.csv", CSV)
    assert run_cli(["customers", "import", str(path), "--db", db]) == 1
    out, err = capsys.readouterr()
    assert "7 rows: 2 loaded (2 new, 0 updated), 5 failed" in out
    assert f"{path}:line 7 c-4: bad language" in err
    assert "13812345678" not in out + err
    good = write(tmp_path, "good.csv", CSV.split("\n\n")[0] + "\n")
    assert run_cli(["customers", "import", str(good), "--db", db]) == 0
    assert run_cli(["customers", "list", "--db", db]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()[1:]]
    assert [r["customer_id"] for r in rows] == ["c-1", "c-2"]
    assert rows[0]["phone"] == "138****5678"
    assert run_cli(["customers", "import", str(tmp_path / "nope.json"), "--db", db]) == 2


async def test_cli_followups_lists_by_status(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "cli.db"
    async with await SqliteCustomerStore.open(db) as store:
        service = CustomerService(store, clock=lambda: NOW)
        first = await service.add_followup(FollowUpKind.COMPLAINT, "rude agent",
                                           call_sid="CA1", customer_id="c-1")
        await service.add_followup(FollowUpKind.CALLBACK, "call 13812345678 at six",
                                   call_sid="CA2", customer_id="c-2")
        await store.complete_followup(first.id or 0)
    assert await asyncio.to_thread(run_cli, ["followups", "--status", "open", "--db",
                                             str(db)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(t["kind"], t["detail"]) for t in lines] == [("callback", "call *******5678 at six")]
    assert await asyncio.to_thread(run_cli, ["followups", "--db", str(db)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
