"""``ivr customers import``: read CSV or JSON, validate row by row, upsert the good rows.

Each row keeps the line of the file it starts on, so a failure reads ``file:12: reason``.
A bad row never stops the others; a second row with an ID already seen in the file fails.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr.core.pii import mask_text
from ivr.customers.idhash import IdHasher
from ivr.customers.model import Customer
from ivr.customers.validate import RowError, customer_from_mapping
from ivr.store.customers import CustomerStore

Row = tuple[int, Mapping[str, object] | RowError]


class ImportFileError(ValueError):
    """The file as a whole cannot be read (missing, not CSV/JSON, broken JSON array)."""


@dataclass(frozen=True, slots=True)
class RowFailure:
    line: int
    customer_id: str | None
    reason: str

    def __str__(self) -> str:
        who = f" {self.customer_id}" if self.customer_id else ""
        return f"line {self.line}{who}: {self.reason}"


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    failures: list[RowFailure] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        return (f"{self.rows} rows: {self.loaded} loaded ({self.created} new, "
                f"{self.updated} updated), {len(self.failures)} failed")


def _csv_rows(text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    for cells in reader:
        line = reader.line_num - sum(cell.count("\n") for cell in cells)
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
            continue
        if len(cells) > len(header):
            yield line, RowError(f"{len(cells)} cells but {len(header)} header columns")
            continue
        yield line, {name: cell for name, cell in zip(header, cells, strict=False)
                     if cell.strip()}


def _json_rows(text: str) -> Iterator[Row]:
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if not text.startswith("[", pos):
        raise ImportFileError("a JSON customer file must hold one array of objects")
    pos += 1
    while True:
        pos += len(text[pos:]) - len(text[pos:].lstrip())
        if text.startswith("]", pos):
            return
        line = text.count("\n", 0, pos) + 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            raise ImportFileError(f"line {err.lineno}: invalid JSON ({err.msg})") from None
        yield line, item if isinstance(item, dict) else RowError("row is not a JSON object")
        pos += len(text[pos:]) - len(text[pos:].lstrip())
        if text.startswith(",", pos):
            pos += 1
        elif not text.startswith("]", pos):
            raise ImportFileError(f"line {text.count(chr(10), 0, pos) + 1}: expected , or ]")


def read_rows(path: Path) -> Iterator[Row]:
    """(line, raw row or its error) for every data row of a ``.csv`` or ``.json`` file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ImportFileError(f"cannot read {path}: {err}") from err
    suffix = path.suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and text.lstrip().startswith("[")):
        return _json_rows(text)
    return _csv_rows(text)


def validate_rows(rows: Iterator[Row]) -> tuple[list[Customer], list[RowFailure], int]:
    """(good customers, failures, number of rows); the first row of an ID wins."""
    good: list[Customer] = []
    failures: list[RowFailure] = []
    seen: dict[str, int] = {}
    count = 0
    for line, raw in rows:
        count += 1
        customer_id = None
        if not isinstance(raw, RowError):
            value = raw.get("customer_id")
            customer_id = mask_text(value.strip()[:64]) if isinstance(value, str) else None
        try:
            if isinstance(raw, RowError):
                raise raw
            customer = customer_from_mapping(raw)
            first = seen.get(customer.customer_id)
            if first is not None:
                raise RowError(f"duplicate customer_id (first on line {first})")
        except RowError as err:
            failures.append(RowFailure(line, customer_id, str(err)))
            continue
        seen[customer.customer_id] = line
        good.append(customer)
    return good, failures, count


async def import_customers(path: Path, store: CustomerStore, hasher: IdHasher) -> ImportReport:
    """Validate and upsert; ID digits are stored only as their keyed hash."""
    good, failures, count = await asyncio.to_thread(lambda: validate_rows(read_rows(path)))
    good = [hasher.protect(c) for c in good]
    created, updated = await store.upsert_customers(good) if good else (0, 0)
    return ImportReport(rows=count, created=created, updated=updated, failures=failures)
