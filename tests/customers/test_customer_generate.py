"""The demo generator: deterministic, mixed, and accepted by the importer."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ivr.customers.cli import register
from ivr.customers.generate import generate_customers
from ivr.customers.importer import import_customers
from ivr.customers.validate import customer_from_mapping
from ivr.customers.views import recent_issues
from ivr.store.customers import SqliteCustomerStore
from tests.customers.customer_samples import HASHER

NOW = datetime(2024, 6, 10, tzinfo=UTC)


def test_same_seed_same_customers_other_seed_differs() -> None:
    assert generate_customers(30, NOW, seed=1) == generate_customers(30, NOW, seed=1)
    assert generate_customers(30, NOW, seed=1) != generate_customers(30, NOW, seed=2)


def test_every_generated_row_validates_and_mixes_are_present() -> None:
    rows = generate_customers(40, NOW)
    customers = [customer_from_mapping(row) for row in rows]
    assert len({c.customer_id for c in customers}) == 40
    assert len({c.phone for c in customers}) == 40
    assert Counter(c.language.value for c in customers).keys() == {"zh", "en"}
    statuses = Counter(c.application_status.value for c in customers)
    assert set(statuses) == {"submitted", "pre_review_passed", "rejected"}
    assert statuses["pre_review_passed"] > len(customers) / 2
    assert {c.activation_status.value for c in customers} == {"active", "inactive"}
    assert any(c.missing_documents for c in customers)
    assert any(c.marketing_opt_out for c in customers)
    assert any(not c.marketing_opt_out for c in customers)
    kinds = Counter(issue["kind"] for c in customers for issue in recent_issues(c, NOW))
    assert kinds["failed_payment"] >= 5 and kinds["refund"] >= 3
    assert any(c.title and c.title.endswith("先生") for c in customers)
    assert any(c.title and c.title.startswith("Ms.") for c in customers)
    for c in customers:
        for t in c.recent_transactions:
            assert NOW - timedelta(days=31) <= t.at <= NOW


async def test_cli_generate_output_reimports_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "demo" / "customers.json"
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["customers", "generate", "--count", "25", "--out", str(out),
                              "--seed", "9", "--now", "2024-06-10T00:00:00+00:00"])
    assert args.func(args) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == generate_customers(
        25, NOW, seed=9)
    async with await SqliteCustomerStore.open(tmp_path / "ivr.db") as store:
        report = await import_customers(out, store, HASHER)
        assert (report.rows, report.created, report.failures) == (25, 25, [])
        again = await import_customers(out, store, HASHER)
        assert (again.created, again.updated) == (0, 25)
