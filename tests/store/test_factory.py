"""Where the stores live: store.url, a plain path, sqlite:/// URLs; PostgreSQL errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.core.errors import StoreError
from ivr.store.db import Dialect
from ivr.store.factory import StoreTarget, open_stores
from ivr.store.pg import numbered, redact


def test_targets_from_settings_and_urls(tmp_path: Path) -> None:
    lite = StoreTarget.from_settings("", tmp_path / "a.db")
    assert (lite.dialect, lite.sqlite_path) == (Dialect.SQLITE, tmp_path / "a.db")
    rel = StoreTarget.parse("sqlite:///var/x.db", base=tmp_path)
    assert rel.sqlite_path == tmp_path / "var" / "x.db"
    assert StoreTarget.parse("sqlite:////abs/x.db").sqlite_path == Path("/abs/x.db")
    pg = StoreTarget.from_settings("postgresql://u:secret@h:5/db", tmp_path, pool_size=3)
    assert (pg.dialect, pg.pool_size) == (Dialect.POSTGRES, 3)
    assert "secret" not in pg.describe() and "***" in pg.describe()


def test_placeholders_and_redaction() -> None:
    assert numbered("SELECT ? , '?' , \"a?\" , ?") == "SELECT $1 , '?' , \"a?\" , $2"
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact("postgresql://h/db") == "postgresql://h/db"


async def test_unreachable_postgresql_is_a_store_error_without_the_password() -> None:
    from ivr.cluster.services import free_port

    url = f"postgresql://ivr:hunter2@127.0.0.1:{free_port()}/ivr"
    with pytest.raises(StoreError, match="cannot open store") as err:
        await open_stores(StoreTarget.parse(url))
    assert "hunter2" not in str(err.value)
