"""Where the ``ivr`` sub-commands find the stores: ``--db`` (a SQLite file, ``sqlite:///...``
or ``postgresql://...``) or else the configuration's ``store.url`` / ``store.sqlite_path``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ivr.store.factory import StoreTarget

DB_HELP = ("SQLite file or postgresql:// URL (default: store.url, else store.sqlite_path, "
           "from the config)")


def store_target(args: argparse.Namespace) -> StoreTarget:
    db = getattr(args, "db", None)
    if db:
        return StoreTarget.parse(db, base=Path.cwd())
    from ivr.config import load_config

    config_file = getattr(args, "config", None)
    store = load_config(Path(config_file) if config_file else None, check=False).store
    return StoreTarget.from_settings(store.url, store.sqlite_path, store.pool_size)
